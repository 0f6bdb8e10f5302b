package namespace

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/memory"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// newStores returns the namespace store over the in-memory storage twin,
// wrapped as Resource wraps it, and its finalize view.
func newStores(t *testing.T) (*generic.Store, registry.Store, registry.View) {
	t.Helper()
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	newNS := func() runtime.Object { return &corev1.Namespace{} }
	mem, err := memory.New(memory.Config{Codec: storagetest.Codec(), NewFunc: newNS, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	st := newGenericStore(mem, clk)
	res := Resource(registry.Deps{Clock: clk})
	return st, res.WrapStore(st), res.Subresources[0].View(st)
}

func newGenericStore(mem *memory.Store, clk *testingclock.FakeClock) *generic.Store {
	return &generic.Store{
		Resource: schema.GroupResource{Resource: "namespaces"}, Kind: corev1.SchemeGroupVersion.WithKind("Namespace"),
		KeyRoot: "/namespaces", NewFunc: func() runtime.Object { return &corev1.Namespace{} },
		NewListFunc: func() runtime.Object { return &corev1.NamespaceList{} },
		Strategy:    NewStrategy(), StatusStrategy: NewStatusStrategy(), GetAttrs: GetAttrs, NameFunc: NameFunc,
		Storage: mem, Clock: clk,
	}
}

// change returns an UpdateFunc applying fn to a copy of the stored namespace.
func change(fn func(*corev1.Namespace)) registry.UpdateFunc {
	return func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		ns := old.(*corev1.Namespace).DeepCopy()
		fn(ns)
		return ns, nil
	}
}

// TestTerminatingNamespaceSurvivesUpdates: a Terminating namespace whose
// spec.finalizers still hold "kubernetes" is kept by status and main
// resource updates (as upstream's ShouldDeleteNamespaceDuringUpdate keeps
// it), and goes once finalize empties spec.finalizers.
func TestTerminatingNamespaceSurvivesUpdates(t *testing.T) {
	ctx := context.Background()
	st, wrapped, finalize := newStores(t)
	if _, err := st.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}, false); err != nil {
		t.Fatal(err)
	}
	obj, deleted, err := wrapped.Delete(ctx, "", "team-a", nil, false)
	if err != nil || deleted {
		t.Fatalf("delete = %v, %v; want the namespace kept", deleted, err)
	}
	if ns := obj.(*corev1.Namespace); ns.DeletionTimestamp == nil || ns.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("after delete: %+v", ns)
	}

	// The namespace controller's condition update.
	if _, _, err := st.Update(ctx, "", "team-a", change(func(ns *corev1.Namespace) {
		ns.Status.Conditions = append(ns.Status.Conditions, corev1.NamespaceCondition{
			Type: corev1.NamespaceContentRemaining, Status: corev1.ConditionTrue, Reason: "SomeResourcesRemain"})
	}), generic.UpdateOptions{Status: true}); err != nil {
		t.Fatalf("status update: %v", err)
	}
	// A user's label.
	if _, _, err := st.Update(ctx, "", "team-a", change(func(ns *corev1.Namespace) { ns.Labels["x"] = "y" }), generic.UpdateOptions{}); err != nil {
		t.Fatalf("update: %v", err)
	}
	got, err := st.Get(ctx, "", "team-a", nil)
	if err != nil {
		t.Fatalf("the namespace went on an update before it was finalized: %v", err)
	}
	if ns := got.(*corev1.Namespace); len(ns.Status.Conditions) != 1 || ns.Labels["x"] != "y" {
		t.Errorf("updates not stored: %+v", ns)
	}

	if _, _, err := finalize.Update(ctx, "", "team-a", change(func(ns *corev1.Namespace) { ns.Spec.Finalizers = nil }), false); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	if _, err := st.Get(ctx, "", "team-a", nil); !apierrors.IsNotFound(err) {
		t.Errorf("get after finalize = %v, want NotFound", err)
	}
}

// TestMetadataFinalizersOutliveFinalize: finalize keeps a namespace that
// still has metadata.finalizers; the update removing the last one deletes it.
func TestMetadataFinalizersOutliveFinalize(t *testing.T) {
	ctx := context.Background()
	st, wrapped, finalize := newStores(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-b", Finalizers: []string{"example.com/hold"}}}
	if _, err := st.Create(ctx, ns, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := wrapped.Delete(ctx, "", "team-b", nil, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := finalize.Update(ctx, "", "team-b", change(func(ns *corev1.Namespace) { ns.Spec.Finalizers = nil }), false); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	if _, err := st.Get(ctx, "", "team-b", nil); err != nil {
		t.Fatalf("finalized namespace with metadata.finalizers went: %v", err)
	}
	if _, _, err := st.Update(ctx, "", "team-b", change(func(ns *corev1.Namespace) { ns.Finalizers = nil }), generic.UpdateOptions{}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if _, err := st.Get(ctx, "", "team-b", nil); !apierrors.IsNotFound(err) {
		t.Errorf("get after the last finalizer went = %v, want NotFound", err)
	}
}
