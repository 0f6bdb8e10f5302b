package namespace

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	fakediscovery "k8s.io/client-go/discovery/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// The unit tests drive sync through controllertest's fixture (namespaces
// and pods in the fake clientset and the namespace informer's cache), a
// fake metadata client holding the namespace's content, and a fake
// discovery of its own (so that discovery's gets are not in the fixture's
// actions).

var (
	configmapsGVR  = corev1.SchemeGroupVersion.WithResource("configmaps")
	secretsGVR     = corev1.SchemeGroupVersion.WithResource("secrets")
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	rolesGVR       = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
)

// apiResources is what the fake discovery serves: core pods, configmaps
// and secrets (and what the controller must skip: a cluster-scoped
// resource, a subresource, a resource that cannot be listed), apps
// deployments and rbac roles.
func apiResources() []*metav1.APIResourceList {
	all := []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "namespaces", Kind: "Namespace", Verbs: all},
			{Name: "pods", Namespaced: true, Kind: "Pod", Verbs: all},
			{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: []string{"get", "patch", "update"}},
			{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: []string{"create"}},
			{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: all},
			{Name: "secrets", Namespaced: true, Kind: "Secret", Verbs: all},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "deployments", Namespaced: true, Kind: "Deployment", Verbs: all},
		}},
		{GroupVersion: "rbac.authorization.k8s.io/v1", APIResources: []metav1.APIResource{
			{Name: "roles", Namespaced: true, Kind: "Role", Verbs: all},
		}},
	}
}

// failingDiscovery fails the discovery of one group-version.
type failingDiscovery struct {
	*fakediscovery.FakeDiscovery
	gv string
}

func (d failingDiscovery) ServerResourcesForGroupVersionWithContext(ctx context.Context, gv string) (*metav1.APIResourceList, error) {
	if gv == d.gv {
		return nil, apierrors.NewServiceUnavailable("the server is currently unable to handle the request")
	}
	return d.FakeDiscovery.ServerResourcesForGroupVersionWithContext(ctx, gv)
}

// env is one test's fake cluster and controller.
type env struct {
	t    *testing.T
	f    *controllertest.Fixture
	meta *metadatafake.FakeMetadataClient
	disc *fakediscovery.FakeDiscovery
	c    *Controller
	// graceful holds the objects ("pods/web") the fake API marks on delete
	// instead of removing them (pods terminating on their node).
	graceful map[string]bool
}

// newEnv seeds the fixture with typed objects (the namespace, pods for
// the grace estimate) and returns the controller over it.
func newEnv(t *testing.T, typed ...runtime.Object) *env {
	t.Helper()
	e := &env{t: t, f: controllertest.New(t, typed...), meta: metadatafake.NewSimpleMetadataClient(metadatafake.NewTestScheme()),
		disc: &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{Resources: apiResources()}}, graceful: map[string]bool{}}
	e.meta.PrependReactor("delete", "*", e.reactDelete)
	e.meta.PrependReactor("delete-collection", "*", e.reactDelete)
	e.c = New(e.f.Client, e.meta, e.disc, e.f.Informers.Core().V1().Namespaces(), e.f.Logger, e.f.Clock, Options{})
	return e
}

// reactDelete deletes as the apiserver does: an object with finalizers,
// or a graceful one, gets a deletionTimestamp and stays; others go.
func (e *env) reactDelete(a k8stesting.Action) (bool, runtime.Object, error) {
	gvr, ns := a.GetResource(), a.GetNamespace()
	var names []string
	if d, ok := a.(k8stesting.DeleteAction); ok {
		names = []string{d.GetName()}
	} else {
		for _, obj := range e.content(gvr, ns) {
			names = append(names, obj.Name)
		}
	}
	for _, name := range names {
		obj, err := e.meta.Tracker().Get(gvr, ns, name)
		if err != nil {
			return true, nil, err
		}
		m := obj.(*metav1.PartialObjectMetadata)
		if len(m.Finalizers) == 0 && !e.graceful[gvr.Resource+"/"+name] {
			if err := e.meta.Tracker().Delete(gvr, ns, name); err != nil {
				return true, nil, err
			}
			continue
		}
		if m.DeletionTimestamp == nil {
			now := metav1.NewTime(e.f.Clock.Now())
			m.DeletionTimestamp = &now
			if err := e.meta.Tracker().Update(gvr, m, ns); err != nil {
				return true, nil, err
			}
		}
	}
	return true, nil, nil
}

// add puts objects of gvr into the namespace's content.
func (e *env) add(gvr schema.GroupVersionResource, ns string, names ...string) {
	e.t.Helper()
	for _, name := range names {
		obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if err := e.meta.Tracker().Create(gvr, obj, ns); err != nil {
			e.t.Fatal(err)
		}
	}
}

// setFinalizers replaces an object's finalizers, as its owner would (an
// object being deleted goes when the last one does, as in the apiserver).
func (e *env) setFinalizers(gvr schema.GroupVersionResource, ns, name string, finalizers ...string) {
	e.t.Helper()
	obj, err := e.meta.Tracker().Get(gvr, ns, name)
	if err != nil {
		e.t.Fatal(err)
	}
	m := obj.(*metav1.PartialObjectMetadata)
	m.Finalizers = finalizers
	if len(finalizers) == 0 && m.DeletionTimestamp != nil {
		err = e.meta.Tracker().Delete(gvr, ns, name)
	} else {
		err = e.meta.Tracker().Update(gvr, m, ns)
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// content lists the objects of gvr in ns.
func (e *env) content(gvr schema.GroupVersionResource, ns string) []*metav1.PartialObjectMetadata {
	e.t.Helper()
	obj, err := e.meta.Tracker().List(gvr, schema.GroupVersionKind{Group: "fake-metadata-client-group", Version: "v1"}, ns)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*metav1.PartialObjectMetadata
	for _, item := range obj.(*metav1.List).Items {
		out = append(out, item.Object.(*metav1.PartialObjectMetadata))
	}
	return out
}

// namespace returns the namespace as the fake API holds it.
func (e *env) namespace(name string) *corev1.Namespace {
	e.t.Helper()
	ns, err := e.f.Client.CoreV1().Namespaces().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return ns
}

// deletes returns the deletes the controller sent through the metadata
// client, and forgets them with the other metadata actions.
func (e *env) deletes() []controllertest.Action {
	var out []controllertest.Action
	for _, a := range e.meta.Actions() {
		if a.GetVerb() == "delete" || a.GetVerb() == "delete-collection" {
			out = append(out, controllertest.Describe(a))
		}
	}
	e.meta.ClearActions()
	return out
}

func (e *env) expectDeletes(want ...controllertest.Action) {
	e.t.Helper()
	got := e.deletes()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		e.t.Errorf("metadata deletes:\n  %v\nwant:\n  %v", got, want)
	}
}

// expectRequeueAfter checks that the namespace key is queued again after
// d on the fake clock, not before.
func (e *env) expectRequeueAfter(d time.Duration) {
	e.t.Helper()
	if n := e.c.Stats().Depth; n != 0 {
		e.t.Fatalf("queue depth %d right after the sync, want the key delayed", n)
	}
	e.f.Clock.Step(d - 100*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	if n := e.c.Stats().Depth; n != 0 {
		e.t.Fatalf("key queued again before %v", d)
	}
	e.f.Clock.Step(100 * time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for e.c.Stats().Depth == 0 {
		if time.Now().After(deadline) {
			e.t.Fatalf("key not queued again %v later", d)
		}
		e.f.Clock.Step(0) // fires a timer the queue set after the step
		time.Sleep(time.Millisecond)
	}
}

// terminating returns a namespace as the apiserver leaves it after
// `kubectl delete ns` at the fake clock's start.
func terminating(name string) *corev1.Namespace {
	now := metav1.NewTime(controllertest.Epoch())
	return &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), ResourceVersion: "7", DeletionTimestamp: &now},
		Spec:       corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{corev1.FinalizerKubernetes}},
		Status:     corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating},
	}
}

func condition(t *testing.T, ns *corev1.Namespace, ct corev1.NamespaceConditionType) corev1.NamespaceCondition {
	t.Helper()
	c := findCondition(ns.Status.Conditions, ct)
	if c == nil {
		t.Fatalf("namespace %s has no %s condition: %+v", ns.Name, ct, ns.Status.Conditions)
	}
	return *c
}

func act(verb, resource, sub, ns, name string) controllertest.Action {
	return controllertest.Action{Verb: verb, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}
