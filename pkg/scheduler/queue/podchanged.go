package queue

import (
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// podChanged reports whether an update could change the scheduling
// decision: anything but status, resourceVersion, generation and managed
// fields (so the scheduler's own status writes do not requeue the pod).
func podChanged(oldPod, newPod *v1.Pod) bool {
	strip := func(p *v1.Pod) *v1.Pod {
		c := p.DeepCopy()
		c.ResourceVersion = ""
		c.Generation = 0
		c.ManagedFields = nil
		c.Status = v1.PodStatus{}
		return c
	}
	return !equality.Semantic.DeepEqual(strip(oldPod), strip(newPod))
}
