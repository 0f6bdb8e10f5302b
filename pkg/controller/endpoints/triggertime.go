package endpoints

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TriggerTimeTracker computes the endpoints.kubernetes.io/last-change-trigger-time
// annotation (corev1.EndpointsLastChangeTriggerTime) of a Service's
// Endpoints or EndpointSlices, as upstream: the earliest time, among the
// changes seen since the Service's previous sync, at which something that
// moved its endpoints happened — a pod's Ready condition transition, or the
// Service's creation. Like upstream's, it is an approximation when one
// object changes several times between two syncs.
//
// Its methods are safe for concurrent use, but Compute must not be called
// concurrently for one Service (the workqueue guarantees it).
type TriggerTimeTracker struct {
	mu     sync.Mutex
	states map[types.NamespacedName]triggerState
}

// triggerState is what the previous sync of a Service saw.
type triggerState struct {
	service time.Time            // the Service's trigger time
	pods    map[string]time.Time // pod name → Ready transition time
}

// NewTriggerTimeTracker returns an empty tracker.
func NewTriggerTimeTracker() *TriggerTimeTracker {
	return &TriggerTimeTracker{states: map[types.NamespacedName]triggerState{}}
}

// Compute records what this sync of svc sees (its selected pods) and
// returns the trigger time to write: the Service's creation time the first
// time it is seen; afterwards the earliest trigger time that moved since
// the previous call, or the zero time when none did (the annotation is
// then removed).
func (t *TriggerTimeTracker) Compute(svc *corev1.Service, pods []*corev1.Pod) time.Time {
	key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
	t.mu.Lock()
	prev, known := t.states[key]
	t.mu.Unlock()

	var earliest time.Time
	consider := func(ts time.Time) {
		if earliest.IsZero() || ts.Before(earliest) {
			earliest = ts
		}
	}
	next := triggerState{service: svc.CreationTimestamp.Time, pods: make(map[string]time.Time, len(pods))}
	for _, pod := range pods {
		c := podReadyCondition(pod)
		if c == nil || c.LastTransitionTime.IsZero() {
			continue
		}
		ts := c.LastTransitionTime.Time
		next.pods[pod.Name] = ts
		if ts.After(prev.pods[pod.Name]) {
			consider(ts)
		}
	}
	if next.service.After(prev.service) {
		consider(next.service)
	}
	t.mu.Lock()
	t.states[key] = next
	t.mu.Unlock()
	if !known {
		return svc.CreationTimestamp.Time
	}
	return earliest
}

// Forget drops what the tracker knows of the Service namespace/name (it
// was deleted).
func (t *TriggerTimeTracker) Forget(namespace, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.states, types.NamespacedName{Namespace: namespace, Name: name})
}
