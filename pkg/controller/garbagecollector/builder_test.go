package garbagecollector

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestGraphVirtualOwnerThenObserved(t *testing.T) {
	f := newFixture(t)
	owner := cm("owner")
	dep := cm("dep", ref(owner, true))
	f.observe(dep)
	if got, want := f.takeKeys(), []string{key(keyDelete, owner)}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want the virtual owner's %v", got, want)
	}
	n, ok := f.c.graph.get(owner.UID)
	if !ok || n.observed || n.dependents != 1 || n.identity != (objectRef{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: owner.UID, Namespace: "default"}) {
		t.Fatalf("virtual owner %+v (found %v)", n, ok)
	}
	f.observe(owner)
	if n, _ := f.c.graph.get(owner.UID); !n.observed || n.dependents != 1 {
		t.Errorf("observed owner %+v", n)
	}
	if keys := f.takeKeys(); len(keys) != 0 {
		t.Errorf("observing the owner queued %v", keys)
	}
}

func TestGraphOwnerRefInvalidNamespace(t *testing.T) {
	wantEvent := `Warning OwnerRefInvalidNamespace ownerRef [v1/ConfigMap, namespace: other, name: owner, uid: uid-owner] does not exist in namespace "other"`
	// Owner observed first, then a dependent in another namespace.
	f := newFixture(t)
	owner := cm("owner")
	dep := object("v1", "ConfigMap", "other", "dep", ref(owner, false))
	f.observe(owner)
	f.observe(dep)
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyDelete, dep)}) {
		t.Errorf("keys %v, want the dependent's", got)
	}
	if got := <-f.recorder.Events; got != wantEvent {
		t.Errorf("event %q, want %q", got, wantEvent)
	}
	// The dependent first: the owner is virtual in its namespace until
	// observed elsewhere.
	f = newFixture(t)
	f.observe(dep)
	f.takeKeys()
	f.observe(owner)
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyDelete, dep)}) {
		t.Errorf("keys %v, want the dependent's", got)
	}
	if got := <-f.recorder.Events; got != wantEvent {
		t.Errorf("event %q, want %q", got, wantEvent)
	}
	if n, _ := f.c.graph.get(owner.UID); n.identity.Namespace != "default" || !n.observed {
		t.Errorf("owner %+v, want its observed identity", n)
	}
}

func TestGraphDeletionTransitions(t *testing.T) {
	owner := cm("owner")
	dep1, dep2 := cm("dep-1", ref(owner, true)), cm("dep-2", ref(owner, false))
	f := newFixture(t, owner, dep1, dep2)

	foreground := deleting(owner, finalizerForeground)
	f.update(owner, foreground)
	if got, want := f.takeKeys(), []string{key(keyDelete, dep1), key(keyDelete, dep2), key(keyDelete, owner)}; !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("foreground deletion queued %v, want %v", got, want)
	}
	if n, _ := f.c.graph.get(owner.UID); !n.deletingDependents || !n.beingDeleted {
		t.Errorf("owner %+v, want deleting its dependents", n)
	}
	// Only the start of the deletion queues.
	f.update(foreground, foreground)
	if got := f.takeKeys(); len(got) != 0 {
		t.Errorf("a second update queued %v", got)
	}
	// A blocking reference removed queues the owner; one that never
	// blocked does not.
	f.update(dep1, cm("dep-1"))
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyDelete, owner)}) {
		t.Errorf("unblocking queued %v, want the owner", got)
	}
	f.update(dep2, cm("dep-2"))
	if got := f.takeKeys(); len(got) != 0 {
		t.Errorf("removing a non-blocking reference queued %v", got)
	}
	if n, _ := f.c.graph.get(owner.UID); n.dependents != 0 {
		t.Errorf("owner still has %d dependents", n.dependents)
	}

	f = newFixture(t, owner, dep1)
	f.update(owner, deleting(owner, finalizerOrphan))
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyOrphan, owner)}) {
		t.Errorf("orphan deletion queued %v", got)
	}
}

func TestGraphDeleteEvents(t *testing.T) {
	owner := cm("owner")
	dep := cm("dep", ref(owner, true))
	f := newFixture(t, owner, dep)
	f.remove(owner)
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyDelete, dep)}) {
		t.Errorf("the owner's deletion queued %v, want its dependent", got)
	}
	if f.c.graph.has(owner.UID) {
		t.Error("deleted owner still in the graph")
	}
	if _, ok := f.c.absent.Get(objectRef{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: owner.UID, Namespace: "default"}); !ok {
		t.Error("deleted owner not remembered absent")
	}

	// A dependent's deletion queues its owner deleting in the foreground.
	f = newFixture(t, deleting(owner, finalizerForeground), dep)
	f.remove(dep)
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyDelete, owner)}) {
		t.Errorf("the dependent's deletion queued %v, want its owner", got)
	}
	if n, _ := f.c.graph.get(owner.UID); n.dependents != 0 {
		t.Errorf("owner %+v still has the dependent", n)
	}

	// A virtual deletion of a virtual owner whose dependents agree on
	// its coordinates removes it; one they disagree about keeps it under
	// the other identity.
	f = newFixture(t, dep)
	f.c.builder.virtualDelete(objectRef{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: owner.UID, Namespace: "default"})
	e, _ := f.c.builder.changes.Get()
	f.c.builder.process(e)
	f.c.builder.changes.Done(e)
	if f.c.graph.has(owner.UID) {
		t.Error("virtual owner still in the graph after its virtual deletion")
	}
	other := cm("dep-2", metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "owner", UID: owner.UID})
	f = newFixture(t, dep, other)
	f.c.builder.process(&event{typ: deleteEvent, virtual: true, obj: owner, gvk: owner.GroupVersionKind()})
	n, ok := f.c.graph.get(owner.UID)
	if !ok || n.identity.Kind != "ReplicaSet" {
		t.Errorf("owner %+v (found %v), want kept as the ReplicaSet its other dependent names", n, ok)
	}
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyDelete, dep), key(keyDelete, owner)}) {
		t.Errorf("queued %v, want the matching dependent and the owner's other identity", got)
	}
}

func TestReferencesDiffs(t *testing.T) {
	yes, no := true, false
	a := metav1.OwnerReference{UID: "a", Name: "a"}
	b := metav1.OwnerReference{UID: "b", Name: "b", BlockOwnerDeletion: &yes}
	b2 := metav1.OwnerReference{UID: "b", Name: "b", BlockOwnerDeletion: &no}
	c := metav1.OwnerReference{UID: "c", Name: "c"}
	added, removed, changed := referencesDiffs([]metav1.OwnerReference{a, b}, []metav1.OwnerReference{b2, c})
	if len(added) != 1 || added[0].UID != "c" || len(removed) != 1 || removed[0].UID != "a" ||
		len(changed) != 1 || changed[0][0].BlockOwnerDeletion != &yes || changed[0][1].BlockOwnerDeletion != &no {
		t.Errorf("added %v removed %v changed %v", added, removed, changed)
	}
}
