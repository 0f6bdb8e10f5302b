package framework

import (
	"strings"

	v1 "k8s.io/api/core/v1"
)

// Default requests counted for scoring when a container requests nothing,
// as upstream (pkg/scheduler/util.DefaultMilliCPURequest, DefaultMemoryRequest),
// so that many zero-request pods still spread.
const (
	DefaultMilliCPURequest int64 = 100
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024
)

// Resource is an amount of the resources the scheduler accounts: cpu in
// millicores, memory and ephemeral storage in bytes, a pod count, and
// extended (scalar) resources by name.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	AllowedPodNumber int64
	ScalarResources  map[v1.ResourceName]int64
}

// NewResource returns the Resource of a ResourceList.
func NewResource(rl v1.ResourceList) *Resource {
	r := &Resource{}
	r.Add(rl)
	return r
}

// Add adds every quantity of rl.
func (r *Resource) Add(rl v1.ResourceList) {
	for name, q := range rl {
		switch name {
		case v1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case v1.ResourceMemory:
			r.Memory += q.Value()
		case v1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case v1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		default:
			if IsScalarResourceName(name) {
				r.SetScalar(name, r.ScalarResources[name]+q.Value())
			}
		}
	}
}

// AddResource adds o to r.
func (r *Resource) AddResource(o *Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.AllowedPodNumber += o.AllowedPodNumber
	for n, v := range o.ScalarResources {
		r.SetScalar(n, r.ScalarResources[n]+v)
	}
}

// SubResource subtracts o from r.
func (r *Resource) SubResource(o *Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
	for n, v := range o.ScalarResources {
		r.SetScalar(n, r.ScalarResources[n]-v)
	}
}

// SetMax raises each amount of r to at least that of o.
func (r *Resource) SetMax(o *Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	r.AllowedPodNumber = max(r.AllowedPodNumber, o.AllowedPodNumber)
	for n, v := range o.ScalarResources {
		if v > r.ScalarResources[n] {
			r.SetScalar(n, v)
		}
	}
}

// SetScalar sets one extended resource.
func (r *Resource) SetScalar(name v1.ResourceName, v int64) {
	if r.ScalarResources == nil {
		r.ScalarResources = map[v1.ResourceName]int64{}
	}
	r.ScalarResources[name] = v
}

// Clone returns a deep copy.
func (r *Resource) Clone() *Resource {
	c := *r
	if r.ScalarResources != nil {
		c.ScalarResources = make(map[v1.ResourceName]int64, len(r.ScalarResources))
		for k, v := range r.ScalarResources {
			c.ScalarResources[k] = v
		}
	}
	return &c
}

// IsScalarResourceName reports whether a resource is accounted as a scalar,
// as upstream: extended resources and prefixed native resources (any name
// with a domain, "example.com/gpu"), hugepages-* and attachable-volumes-*.
func IsScalarResourceName(name v1.ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") || strings.HasPrefix(s, v1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(s, v1.ResourceAttachableVolumesPrefix)
}

// PodRequests returns what a pod asks of a node, as upstream's
// resourcehelper.PodRequests: the sum of its containers, raised to the
// largest init container (restartable "sidecar" init containers count with
// the containers and with every later init container), plus the pod
// overhead.
func PodRequests(pod *v1.Pod) *Resource {
	reqs := &Resource{}
	for i := range pod.Spec.Containers {
		reqs.Add(pod.Spec.Containers[i].Resources.Requests)
	}
	sidecars := &Resource{}
	initMax := &Resource{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cr := NewResource(c.Resources.Requests)
		if c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways {
			reqs.AddResource(cr)
			sidecars.AddResource(cr)
			cr = sidecars.Clone()
		} else {
			cr.AddResource(sidecars)
		}
		initMax.SetMax(cr)
	}
	reqs.SetMax(initMax)
	if pod.Spec.Overhead != nil {
		reqs.Add(pod.Spec.Overhead)
	}
	return reqs
}

// PodNonZeroRequests returns a pod's cpu and memory requests for scoring:
// like PodRequests, but a container asking for no cpu (memory) counts as
// DefaultMilliCPURequest (DefaultMemoryRequest).
func PodNonZeroRequests(pod *v1.Pod) (milliCPU, memory int64) {
	nonZero := func(rl v1.ResourceList) (int64, int64) {
		cpu, mem := DefaultMilliCPURequest, DefaultMemoryRequest
		if q, ok := rl[v1.ResourceCPU]; ok {
			cpu = q.MilliValue()
		}
		if q, ok := rl[v1.ResourceMemory]; ok {
			mem = q.Value()
		}
		return cpu, mem
	}
	for i := range pod.Spec.Containers {
		c, m := nonZero(pod.Spec.Containers[i].Resources.Requests)
		milliCPU += c
		memory += m
	}
	for i := range pod.Spec.InitContainers {
		c, m := nonZero(pod.Spec.InitContainers[i].Resources.Requests)
		milliCPU, memory = max(milliCPU, c), max(memory, m)
	}
	if pod.Spec.Overhead != nil {
		if q, ok := pod.Spec.Overhead[v1.ResourceCPU]; ok {
			milliCPU += q.MilliValue()
		}
		if q, ok := pod.Spec.Overhead[v1.ResourceMemory]; ok {
			memory += q.Value()
		}
	}
	return milliCPU, memory
}
