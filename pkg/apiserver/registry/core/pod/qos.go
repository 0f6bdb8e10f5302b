package pod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ComputeQOS returns the pod's QoS class as upstream computes it at create
// time: BestEffort without cpu/memory requests or limits, Guaranteed when
// every container limits cpu and memory and requests equal limits, Burstable
// otherwise. Pod-level resources, when set, decide instead of containers.
func ComputeQOS(pod *corev1.Pod) corev1.PodQOSClass {
	requests := corev1.ResourceList{}
	limits := corev1.ResourceList{}
	guaranteed := true
	add := func(into corev1.ResourceList, list corev1.ResourceList) (cpuAndMemory bool) {
		var cpu, mem bool
		for name, q := range list {
			if name != corev1.ResourceCPU && name != corev1.ResourceMemory {
				continue
			}
			if q.Cmp(resource.Quantity{}) != 1 {
				continue
			}
			cpu = cpu || name == corev1.ResourceCPU
			mem = mem || name == corev1.ResourceMemory
			sum := q.DeepCopy()
			if prev, ok := into[name]; ok {
				sum.Add(prev)
			}
			into[name] = sum
		}
		return cpu && mem
	}
	if r := pod.Spec.Resources; r != nil && (len(r.Requests) > 0 || len(r.Limits) > 0) {
		add(requests, r.Requests)
		guaranteed = add(limits, r.Limits)
	} else {
		for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for _, c := range list {
				add(requests, c.Resources.Requests)
				if !add(limits, c.Resources.Limits) {
					guaranteed = false
				}
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
