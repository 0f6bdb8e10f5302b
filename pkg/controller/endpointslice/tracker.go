package endpointslice

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// deletionExpected marks a slice the controller deleted.
const deletionExpected = -1

// sliceTracker remembers, per Service, the generation of each slice the
// controller last wrote (or that it deleted one), as upstream's
// EndpointSliceTracker: it tells the controller's own writes, coming back
// through the informer, from others' changes, and a cache that has not
// caught up with them. Its methods are safe for concurrent use.
type sliceTracker struct {
	mu        sync.Mutex
	byService map[types.NamespacedName]map[types.UID]int64
}

func newSliceTracker() *sliceTracker {
	return &sliceTracker{byService: map[types.NamespacedName]map[types.UID]int64{}}
}

func serviceOf(slice *discoveryv1.EndpointSlice) types.NamespacedName {
	return types.NamespacedName{Namespace: slice.Namespace, Name: slice.Labels[discoveryv1.LabelServiceName]}
}

// generations returns the map of slice's Service, created when create.
// Callers hold mu.
func (t *sliceTracker) generations(slice *discoveryv1.EndpointSlice, create bool) map[types.UID]int64 {
	nn := serviceOf(slice)
	g := t.byService[nn]
	if g == nil && create {
		g = map[types.UID]int64{}
		t.byService[nn] = g
	}
	return g
}

// has reports whether slice is tracked.
func (t *sliceTracker) has(slice *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok := t.generations(slice, false)[slice.UID]
	return ok
}

// shouldSync reports whether slice is news to the controller: untracked,
// or of a generation newer than the one it wrote.
func (t *sliceTracker) shouldSync(slice *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.generations(slice, false)[slice.UID]
	return !ok || slice.Generation > g
}

// stale reports whether the cached slices of svc lag behind the
// controller's writes: one is older than written, or expected deleted, or
// a written one is missing.
func (t *sliceTracker) stale(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	gens := t.byService[types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}]
	if gens == nil {
		return false
	}
	seen := map[types.UID]bool{}
	for _, s := range slices {
		seen[s.UID] = true
		if g, ok := gens[s.UID]; ok && (g == deletionExpected || g > s.Generation) {
			return true
		}
	}
	for uid, g := range gens {
		if g != deletionExpected && !seen[uid] {
			return true
		}
	}
	return false
}

// update records slice's generation as written by the controller.
func (t *sliceTracker) update(slice *discoveryv1.EndpointSlice) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.generations(slice, true)[slice.UID] = slice.Generation
}

// expectDeletion records that the controller deleted slice.
func (t *sliceTracker) expectDeletion(slice *discoveryv1.EndpointSlice) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.generations(slice, true)[slice.UID] = deletionExpected
}

// handleDeletion forgets slice, which the informer saw deleted, and
// reports whether the controller expected it (false: someone else deleted
// a slice the controller wrote).
func (t *sliceTracker) handleDeletion(slice *discoveryv1.EndpointSlice) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	gens := t.generations(slice, false)
	g, ok := gens[slice.UID]
	delete(gens, slice.UID)
	return !ok || g == deletionExpected
}

// forgetService drops everything tracked for the Service.
func (t *sliceTracker) forgetService(namespace, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byService, types.NamespacedName{Namespace: namespace, Name: name})
}
