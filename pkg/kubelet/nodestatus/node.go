// Package nodestatus registers the kubelet's Node, keeps its status
// (addresses, capacity, nodeInfo, conditions) current, and renews its Lease
// in kube-node-lease.
package nodestatus

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
)

// Config describes the node to register.
type Config struct {
	NodeName       string
	NodeIPs        []string
	Labels         map[string]string // from --node-labels
	Taints         []v1.Taint        // from --register-with-taints
	KubeletPort    int32
	PodCIDR        string
	MaxPods        int32
	KubeletVersion string
	LeaseDuration  int32
	// MemoryAvailable and NodeFsAvailable are the hard eviction thresholds
	// (evictionHard memory.available, nodefs.available) under which the
	// node reports MemoryPressure and DiskPressure; zero never does.
	MemoryAvailable, NodeFsAvailable kubeletconfig.Threshold
}

// newNode is the Node the kubelet registers.
func (c *Controller) newNode() *v1.Node {
	labels := map[string]string{
		v1.LabelHostname: c.cfg.NodeName, v1.LabelOSStable: runtime.GOOS, v1.LabelArchStable: runtime.GOARCH,
		"beta.kubernetes.io/os": runtime.GOOS, "beta.kubernetes.io/arch": runtime.GOARCH,
	}
	for k, v := range c.cfg.Labels {
		labels[k] = v
	}
	n := &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: c.cfg.NodeName, Labels: labels,
		Annotations: map[string]string{"volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
		Spec: v1.NodeSpec{Taints: c.cfg.Taints}}
	if c.cfg.PodCIDR != "" {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = c.cfg.PodCIDR, []string{c.cfg.PodCIDR}
	}
	return n
}

// status computes the node's status; conditions keep their transition
// times from old when their status is unchanged.
func (c *Controller) status(ctx context.Context, old *v1.NodeStatus) v1.NodeStatus {
	m := c.probe()
	now := metav1.NewTime(c.clock.Now())
	st := v1.NodeStatus{
		DaemonEndpoints: v1.NodeDaemonEndpoints{KubeletEndpoint: v1.DaemonEndpoint{Port: c.cfg.KubeletPort}},
		NodeInfo: v1.NodeSystemInfo{MachineID: m.MachineID, SystemUUID: m.SystemUUID, BootID: m.BootID, KernelVersion: m.KernelVersion,
			OSImage: m.OSImage, KubeletVersion: c.cfg.KubeletVersion, KubeProxyVersion: "", OperatingSystem: m.OperatingSystem,
			Architecture: m.Architecture},
	}
	for _, ip := range c.cfg.NodeIPs {
		st.Addresses = append(st.Addresses, v1.NodeAddress{Type: v1.NodeInternalIP, Address: ip})
	}
	st.Addresses = append(st.Addresses, v1.NodeAddress{Type: v1.NodeHostName, Address: c.cfg.NodeName})
	st.Capacity = v1.ResourceList{
		v1.ResourceCPU:              *resource.NewMilliQuantity(m.CPUMilli, resource.DecimalSI),
		v1.ResourceMemory:           *resource.NewQuantity(m.MemoryBytes, resource.BinarySI),
		v1.ResourceEphemeralStorage: *resource.NewQuantity(m.DiskBytes, resource.BinarySI),
		v1.ResourcePods:             *resource.NewQuantity(int64(c.cfg.MaxPods), resource.DecimalSI),
		"hugepages-1Gi":             resource.MustParse("0"),
		"hugepages-2Mi":             resource.MustParse("0"),
	}
	st.Allocatable = st.Capacity.DeepCopy()

	ready, notReadyMsg := true, ""
	if v, err := c.runtime.Version(ctx); err == nil {
		st.NodeInfo.ContainerRuntimeVersion = v.RuntimeName + "://" + v.RuntimeVersion
	}
	rs, err := c.runtime.Status(ctx)
	if err != nil {
		ready, notReadyMsg = false, "container runtime is down: "+err.Error()
	} else {
		var problems []string
		for _, cond := range rs.GetConditions() {
			if !cond.Status && (cond.Type == runtimeapi.RuntimeReady || cond.Type == runtimeapi.NetworkReady) {
				what := "runtime"
				if cond.Type == runtimeapi.NetworkReady {
					what = "runtime network"
				}
				problems = append(problems, fmt.Sprintf("container %s not ready: %s=false reason:%s message:%s", what, cond.Type, cond.Reason, cond.Message))
			}
		}
		if len(problems) > 0 {
			ready, notReadyMsg = false, strings.Join(problems, ", ")
		}
	}
	memPressure := m.MemAvailable > 0 && c.cfg.MemoryAvailable.Crossed(m.MemAvailable, m.MemoryBytes)
	diskPressure := c.cfg.NodeFsAvailable.Crossed(m.DiskAvailable, m.DiskBytes)
	pidPressure := m.PIDMax > 0 && m.PIDsInUse*100/m.PIDMax > 95
	cond := func(t v1.NodeConditionType, s bool, trueReason, trueMsg, falseReason, falseMsg string) v1.NodeCondition {
		nc := v1.NodeCondition{Type: t, Status: v1.ConditionFalse, Reason: falseReason, Message: falseMsg, LastHeartbeatTime: now, LastTransitionTime: now}
		if s {
			nc.Status, nc.Reason, nc.Message = v1.ConditionTrue, trueReason, trueMsg
		}
		if old != nil {
			for _, o := range old.Conditions {
				if o.Type == t && o.Status == nc.Status {
					nc.LastTransitionTime = o.LastTransitionTime
				}
			}
		}
		return nc
	}
	st.Conditions = []v1.NodeCondition{
		cond(v1.NodeMemoryPressure, memPressure, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available",
			"KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		cond(v1.NodeDiskPressure, diskPressure, "KubeletHasDiskPressure", "kubelet has disk pressure",
			"KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		cond(v1.NodePIDPressure, pidPressure, "KubeletHasInsufficientPID", "kubelet has insufficient PID available",
			"KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		cond(v1.NodeReady, ready, "KubeletReady", "kubelet is posting ready status", "KubeletNotReady", notReadyMsg),
	}
	return st
}
