package namespacelifecycle

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// namespaces is a registry.Store answering Get from a map; cached lists
// what the watch cache (resourceVersion "0") has seen.
type namespaces struct {
	registry.Store
	all    map[string]*corev1.Namespace
	cached map[string]bool
}

func (n namespaces) Get(_ context.Context, _, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	ns, ok := n.all[name]
	if !ok || (opts != nil && opts.ResourceVersion == "0" && !n.cached[name]) {
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, name)
	}
	return ns.DeepCopy(), nil
}

func podCreate(ns string) *admission.Attributes {
	return &admission.Attributes{Operation: admission.Create, Kind: corev1.SchemeGroupVersion.WithKind("Pod"),
		Resource: corev1.SchemeGroupVersion.WithResource("pods"), Namespace: ns, Name: "web",
		Object: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns}}}
}

func TestNamespaceLifecycle(t *testing.T) {
	store := namespaces{all: map[string]*corev1.Namespace{
		"active":  {ObjectMeta: metav1.ObjectMeta{Name: "active"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
		"new":     {ObjectMeta: metav1.ObjectMeta{Name: "new"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
		"leaving": {ObjectMeta: metav1.ObjectMeta{Name: "leaving"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
	}, cached: map[string]bool{"active": true, "leaving": true}}
	p := New(func() registry.Store { return store })
	ctx := context.Background()

	for _, ns := range []string{"active", "new"} {
		if err := p.Admit(ctx, podCreate(ns)); err != nil {
			t.Errorf("create in %s: %v", ns, err)
		}
	}
	err := p.Admit(ctx, podCreate("missing"))
	if !apierrors.IsNotFound(err) || err.Error() != `namespaces "missing" not found` {
		t.Errorf("create in a missing namespace: %v", err)
	}
	err = p.Admit(ctx, podCreate("leaving"))
	want := `pods "web" is forbidden: unable to create new content in namespace leaving because it is being terminated`
	if !apierrors.IsForbidden(err) || err.Error() != want || !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
		t.Errorf("create in a terminating namespace: %v, want %q with the NamespaceTerminating cause", err, want)
	}
	// Updates and deletes of content, and namespaces themselves, pass.
	up := podCreate("leaving")
	up.Operation = admission.Update
	if err := p.Admit(ctx, up); err != nil {
		t.Errorf("update in a terminating namespace: %v", err)
	}
	nsCreate := &admission.Attributes{Operation: admission.Create, Kind: corev1.SchemeGroupVersion.WithKind("Namespace"),
		Resource: corev1.SchemeGroupVersion.WithResource("namespaces"), Name: "x"}
	if err := p.Admit(ctx, nsCreate); err != nil {
		t.Errorf("namespace create: %v", err)
	}

	for _, name := range []string{"default", "kube-system", "kube-public", "active"} {
		del := &admission.Attributes{Operation: admission.Delete, Kind: corev1.SchemeGroupVersion.WithKind("Namespace"),
			Resource: corev1.SchemeGroupVersion.WithResource("namespaces"), Name: name}
		err := p.Validate(ctx, del)
		if name == "active" {
			if err != nil {
				t.Errorf("delete %s: %v", name, err)
			}
			continue
		}
		if want := `namespaces "` + name + `" is forbidden: this namespace may not be deleted`; err == nil || err.Error() != want {
			t.Errorf("delete %s: %v, want %q", name, err, want)
		}
	}
}
