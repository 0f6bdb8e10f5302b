package kuberuntime

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Upstream's cgroup values (pkg/kubelet/cm).
const (
	minShares     = 2
	sharesPerCPU  = 1024
	quotaPeriod   = 100000 // 100 ms in µs
	minQuota      = 1000
	guaranteedOOM = -997
	besteffortOOM = 1000
)

// QOSClass computes the pod's QoS class as upstream does (from requests and
// limits of all containers, cpu and memory only).
func QOSClass(pod *v1.Pod) v1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	requests, limits := v1.ResourceList{}, v1.ResourceList{}
	guaranteed, any := true, false
	for _, list := range [][]v1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			for _, name := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
				req, hasReq := c.Resources.Requests[name]
				lim, hasLim := c.Resources.Limits[name]
				if hasReq && !req.IsZero() || hasLim && !lim.IsZero() {
					any = true
				}
				if !hasLim || lim.IsZero() {
					guaranteed = false
				} else if hasReq && req.Cmp(lim) != 0 {
					guaranteed = false
				}
				add(requests, name, req)
				add(limits, name, lim)
			}
		}
	}
	switch {
	case !any:
		return v1.PodQOSBestEffort
	case guaranteed:
		return v1.PodQOSGuaranteed
	default:
		return v1.PodQOSBurstable
	}
}

func add(l v1.ResourceList, name v1.ResourceName, q resource.Quantity) {
	cur := l[name]
	cur.Add(q)
	l[name] = cur
}

// linuxResources maps a container's requests and limits to CRI values. The
// oom_score_adj follows upstream's QoS policy but is never below the
// kubelet's own (lowering needs CAP_SYS_RESOURCE, which nodes lack).
func (m *Manager) linuxResources(pod *v1.Pod, c *v1.Container) *runtimeapi.LinuxContainerResources {
	r := &runtimeapi.LinuxContainerResources{CpuShares: minShares}
	cpuReq, hasReq := c.Resources.Requests[v1.ResourceCPU]
	cpuLim, hasLim := c.Resources.Limits[v1.ResourceCPU]
	if !hasReq && hasLim {
		cpuReq, hasReq = cpuLim, true
	}
	if hasReq {
		if s := cpuReq.MilliValue() * sharesPerCPU / 1000; s > minShares {
			r.CpuShares = s
		}
	}
	if hasLim && !cpuLim.IsZero() {
		r.CpuPeriod = quotaPeriod
		r.CpuQuota = cpuLim.MilliValue() * quotaPeriod / 1000
		if r.CpuQuota < minQuota {
			r.CpuQuota = minQuota
		}
	}
	if memLim, ok := c.Resources.Limits[v1.ResourceMemory]; ok {
		r.MemoryLimitInBytes = memLim.Value()
	}
	var oom int64
	switch QOSClass(pod) {
	case v1.PodQOSGuaranteed:
		oom = guaranteedOOM
	case v1.PodQOSBestEffort:
		oom = besteffortOOM
	default:
		oom = 1000
		if memReq, ok := c.Resources.Requests[v1.ResourceMemory]; ok && m.cfg.NodeMemoryBytes > 0 {
			oom = 1000 - 1000*memReq.Value()/m.cfg.NodeMemoryBytes
		}
		oom = max(min(oom, 999), 2)
	}
	r.OomScoreAdj = max(oom, m.cfg.OOMScoreAdjFloor)
	return r
}
