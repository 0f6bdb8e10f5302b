package garbagecollector

import (
	"errors"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"
)

func TestSyncDanglingOwnerDeletesDependent(t *testing.T) {
	ghost := cm("ghost") // never created
	dep := cm("dep", ref(ghost, false))
	f := newFixture(t, dep)
	if err := f.sync(key(keyDelete, dep)); err != nil {
		t.Fatal(err)
	}
	want := []string{"get configmaps default/dep", "get configmaps default/ghost", "delete configmaps default/dep"}
	if got := f.actions(); !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	del := f.meta.Actions()[2].(k8stesting.DeleteAction).GetDeleteOptions()
	if p := del.PropagationPolicy; p == nil || *p != metav1.DeletePropagationBackground ||
		del.Preconditions == nil || *del.Preconditions.UID != dep.UID || *del.Preconditions.ResourceVersion != "1" {
		t.Errorf("delete options %+v, want background with the uid and resourceVersion preconditions", del)
	}
	// The owner is remembered absent: the next dependent needs no read.
	dep2 := cm("dep-2", ref(ghost, false))
	f.meta.Tracker().Add(dep2)
	f.observe(dep2)
	f.meta.ClearActions()
	if err := f.sync(key(keyDelete, dep2)); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); !slices.Equal(got, []string{"get configmaps default/dep-2", "delete configmaps default/dep-2"}) {
		t.Errorf("actions %v", got)
	}
}

func TestSyncOwnerWithOtherUIDIsDangling(t *testing.T) {
	impostor := cm("owner")
	impostor.UID = "uid-someone-else"
	dep := cm("dep", ref(cm("owner"), false))
	f := newFixture(t, impostor, dep)
	if err := f.sync(key(keyDelete, dep)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.get("default", "dep"); !apierrors.IsNotFound(err) {
		t.Errorf("dependent of an owner replaced by another uid: %v, want deleted", err)
	}
	if _, err := f.get("default", "owner"); err != nil {
		t.Errorf("the other object of the owner's name: %v", err)
	}
}

func TestSyncPolicyFromDependentFinalizers(t *testing.T) {
	ghost := cm("ghost")
	dep := cm("dep", ref(ghost, false))
	dep.Finalizers = []string{finalizerOrphan}
	f := newFixture(t, dep)
	if err := f.sync(key(keyDelete, dep)); err != nil {
		t.Fatal(err)
	}
	del := f.meta.Actions()[2].(k8stesting.DeleteAction).GetDeleteOptions()
	if p := del.PropagationPolicy; p == nil || *p != metav1.DeletePropagationOrphan {
		t.Errorf("delete options %+v, want the orphan policy the dependent's finalizer records", del)
	}
}

func TestSyncRemovesDanglingReferences(t *testing.T) {
	live, ghost := cm("live"), cm("ghost")
	dep := cm("dep", ref(ghost, true), ref(live, true))
	f := newFixture(t, live, dep)
	if err := f.sync(key(keyDelete, dep)); err != nil {
		t.Fatal(err)
	}
	want := []string{"get configmaps default/dep", "get configmaps default/ghost", "get configmaps default/live",
		"get configmaps default/dep", "patch configmaps default/dep"}
	if got := f.actions(); !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	patch := f.meta.Actions()[4].(k8stesting.PatchAction)
	if string(patch.GetPatchType()) != "application/merge-patch+json" {
		t.Errorf("patch type %s", patch.GetPatchType())
	}
	got, err := f.get("default", "dep")
	if err != nil || len(got.OwnerReferences) != 1 || got.OwnerReferences[0].UID != live.UID {
		t.Errorf("dependent %v %+v, want only the live owner's reference", err, got)
	}
	// With every owner alive nothing is written.
	f.meta.ClearActions()
	f.update(dep, got)
	if err := f.sync(key(keyDelete, dep)); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); !slices.Equal(got, []string{"get configmaps default/dep", "get configmaps default/live"}) {
		t.Errorf("actions %v, want reads only", got)
	}
}

func TestSyncConflictRetriedFromFreshRead(t *testing.T) {
	live, ghost := cm("live"), cm("ghost")
	dep := cm("dep", ref(ghost, false), ref(live, false))
	f := newFixture(t, live, dep)
	conflicts := 0
	f.meta.PrependReactor("patch", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts++; conflicts == 1 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, "dep", errors.New("changed"))
		}
		return false, nil, nil
	})
	if err := f.sync(key(keyDelete, dep)); err != nil {
		t.Fatal(err)
	}
	want := []string{"get configmaps default/dep", "get configmaps default/ghost", "get configmaps default/live",
		"get configmaps default/dep", "patch configmaps default/dep", "get configmaps default/dep", "patch configmaps default/dep"}
	if got := f.actions(); !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	if got, _ := f.get("default", "dep"); len(got.OwnerReferences) != 1 {
		t.Errorf("dependent %+v", got)
	}
}

func TestSyncForeground(t *testing.T) {
	owner := deleting(cm("owner"), finalizerForeground)
	blocking := cm("blocking", ref(owner, true))
	f := newFixture(t, owner, blocking)

	// The owner waits for its blocking dependent, which is queued.
	if err := f.sync(key(keyDelete, owner)); err != nil {
		t.Fatal(err)
	}
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyDelete, blocking)}) {
		t.Errorf("queued %v, want the blocking dependent", got)
	}
	if got := f.actions(); !slices.Equal(got, []string{"get configmaps default/owner"}) {
		t.Errorf("actions %v", got)
	}
	// The dependent of an owner waiting for it is deleted.
	f.meta.ClearActions()
	if err := f.sync(key(keyDelete, blocking)); err != nil {
		t.Fatal(err)
	}
	if got := f.actions(); !slices.Contains(got, "delete configmaps default/blocking") {
		t.Errorf("actions %v, want the dependent deleted", got)
	}
	// Once it is gone, the owner loses its finalizer.
	f.remove(blocking)
	if got := f.takeKeys(); !slices.Equal(got, []string{key(keyDelete, owner)}) {
		t.Errorf("queued %v, want the owner", got)
	}
	f.meta.ClearActions()
	if err := f.sync(key(keyDelete, owner)); err != nil {
		t.Fatal(err)
	}
	got, err := f.get("default", "owner")
	if err != nil || slices.Contains(got.Finalizers, finalizerForeground) {
		t.Errorf("owner %v %+v, want its finalizer removed", err, got)
	}
}

func TestSyncForegroundDependentWithDependents(t *testing.T) {
	owner := deleting(cm("owner"), finalizerForeground)
	mid := cm("mid", ref(owner, true))
	leaf := cm("leaf", ref(mid, true))
	f := newFixture(t, owner, mid, leaf)
	if err := f.sync(key(keyDelete, mid)); err != nil {
		t.Fatal(err)
	}
	del := f.meta.Actions()[len(f.meta.Actions())-1].(k8stesting.DeleteAction)
	if p := del.GetDeleteOptions().PropagationPolicy; del.GetName() != "mid" || p == nil || *p != metav1.DeletePropagationForeground {
		t.Errorf("last action %v, want mid deleted in the foreground", controllertestDescribe(del))
	}
}

func TestSyncOrphan(t *testing.T) {
	owner := deleting(cm("owner"), finalizerOrphan, "example.com/other")
	other := cm("other")
	dep1, dep2 := cm("dep-1", ref(owner, true)), cm("dep-2", ref(owner, false), ref(other, false))
	f := newFixture(t, owner, other, dep1, dep2)
	if err := f.sync(key(keyOrphan, owner)); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"dep-1": 0, "dep-2": 1} {
		got, err := f.get("default", name)
		if err != nil || len(got.OwnerReferences) != want || got.DeletionTimestamp != nil {
			t.Errorf("%s: %v %+v, want %d references left and not deleted", name, err, got, want)
		}
	}
	got, err := f.get("default", "owner")
	if err != nil || !slices.Equal(got.Finalizers, []string{"example.com/other"}) {
		t.Errorf("owner %v %+v, want only its own finalizer left", err, got)
	}
}

func TestSyncObjectGoneQueuesVirtualDelete(t *testing.T) {
	dep := cm("dep", ref(cm("ghost"), false))
	f := newFixture(t)
	f.observe(dep) // in the graph, not in the API
	if err := f.sync(key(keyDelete, dep)); err != nil {
		t.Fatal(err)
	}
	if n := f.c.builder.changes.Len(); n != 1 {
		t.Fatalf("%d graph changes queued, want the virtual deletion", n)
	}
	e, _ := f.c.builder.changes.Get()
	f.c.builder.process(e)
	if f.c.graph.has(dep.UID) {
		t.Error("object still in the graph after its virtual deletion")
	}
}

func TestSyncUnknownKindAndInvalidReferences(t *testing.T) {
	widget := object("example.com/v1", "Widget", "default", "w")
	dep := cm("dep", ref(widget, false))
	// A cluster-scoped object naming a namespaced owner.
	ns := object("v1", "Namespace", "", "ns", ref(cm("owner"), false))
	f := newFixture(t, dep, ns)
	err := f.sync(key(keyDelete, dep))
	var mapping *restMappingError
	if !errors.As(err, &mapping) {
		t.Errorf("sync of a dependent of an unknown kind: %v, want a REST mapping error (retried)", err)
	}
	if err := f.sync(key(keyDelete, ns)); err != nil {
		t.Errorf("sync of a cluster-scoped object with a namespaced owner: %v, want nil (not retried)", err)
	}
	for _, a := range f.actions() {
		if a[:4] != "get " {
			t.Errorf("write %s", a)
		}
	}
	// Discovery learns the kind later: its monitor is added and the
	// dependent is collected.
	f.disc.setResources(append(apiResources(), &metav1.APIResourceList{GroupVersion: "example.com/v1",
		APIResources: []metav1.APIResource{{Name: "widgets", Namespaced: true, Kind: "Widget", Verbs: allVerbs}}}))
	before := f.c.monitors.count()
	if err := f.c.monitors.sync(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.c.monitors.count(); got != before+1 {
		t.Errorf("%d monitors after a new resource, want %d", got, before+1)
	}
	if err := f.sync(key(keyDelete, dep)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.get("default", "dep"); !apierrors.IsNotFound(err) {
		t.Errorf("dependent of a widget that does not exist: %v, want deleted", err)
	}
	// And a resource no longer served loses its monitor.
	f.disc.setResources(apiResources())
	if err := f.c.monitors.sync(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.c.monitors.count(); got != before {
		t.Errorf("%d monitors after a resource went, want %d", got, before)
	}
}

func TestSyncUnobservedOwnerRequeued(t *testing.T) {
	owner := cm("owner")
	dep := cm("dep", ref(owner, false))
	f := newFixture(t, dep)
	f.meta.Tracker().Add(owner) // in the API, not yet seen by an informer
	if err := f.sync(key(keyDelete, owner)); !errors.Is(err, errNotObserved) {
		t.Errorf("sync of an owner not observed yet: %v, want it requeued", err)
	}
	f.observe(owner)
	if err := f.sync(key(keyDelete, owner)); err != nil {
		t.Errorf("sync once observed: %v", err)
	}
}

func TestDeletableResources(t *testing.T) {
	f := newFixture(t)
	got, err := deletableResources(f.ctx, f.disc)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for gvr, gvk := range got {
		names = append(names, gvr.String()+"="+gvk.Kind)
	}
	slices.Sort(names)
	want := []string{"/v1, Resource=configmaps=ConfigMap", "/v1, Resource=namespaces=Namespace", "/v1, Resource=pods=Pod",
		"apps/v1, Resource=replicasets=ReplicaSet"}
	if !slices.Equal(names, want) {
		t.Errorf("deletable resources %v, want %v (no events, subresources or create-only resources)", names, want)
	}
}
