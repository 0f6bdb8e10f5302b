package garbagecollector

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	fakediscovery "k8s.io/client-go/discovery/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// The unit tests drive the graph builder with events directly (no
// informer runs) and the workers' sync with keys, over a fake metadata
// client holding the objects and a fake discovery of their resources.

// discoveryFake serves resources from ServerPreferredResources too (the
// client-go fake answers nothing there); resources may change between
// syncs.
type discoveryFake struct {
	*fakediscovery.FakeDiscovery
	mu sync.Mutex
}

func (d *discoveryFake) ServerPreferredResourcesWithContext(context.Context) ([]*metav1.APIResourceList, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Resources, nil
}

func (d *discoveryFake) setResources(lists []*metav1.APIResourceList) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Resources = lists
}

var allVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// apiResources: core configmaps, pods, namespaces (cluster-scoped), events
// (ignored), a subresource and a resource that cannot be watched; apps
// replicasets.
func apiResources() []*metav1.APIResourceList {
	return []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: allVerbs},
			{Name: "pods", Namespaced: true, Kind: "Pod", Verbs: allVerbs},
			{Name: "pods/status", Namespaced: true, Kind: "Pod", Verbs: []string{"get", "patch", "update"}},
			{Name: "namespaces", Kind: "Namespace", Verbs: allVerbs},
			{Name: "events", Namespaced: true, Kind: "Event", Verbs: allVerbs},
			{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: []string{"create"}},
		}},
		{GroupVersion: "apps/v1", APIResources: []metav1.APIResource{
			{Name: "replicasets", Namespaced: true, Kind: "ReplicaSet", Verbs: allVerbs},
		}},
	}
}

// fixture is a controller over fakes whose queue is replaced by a record
// of the keys enqueued.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	meta     *metadatafake.FakeMetadataClient
	disc     *discoveryFake
	recorder *record.FakeRecorder
	c        *Controller

	mu   sync.Mutex
	keys []string
}

func newFixture(t *testing.T, objects ...*metav1.PartialObjectMetadata) *fixture {
	t.Helper()
	scheme := metadatafake.NewTestScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var objs []runtime.Object
	for _, o := range objects {
		objs = append(objs, o)
	}
	f := &fixture{t: t, ctx: t.Context(), meta: metadatafake.NewSimpleMetadataClient(scheme, objs...),
		disc:     &discoveryFake{FakeDiscovery: &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{Resources: apiResources()}}},
		recorder: record.NewFakeRecorder(10)}
	f.c = New(f.meta, f.disc, Options{Recorder: f.recorder,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Clock:  clocktesting.NewFakeClock(controllertest.Epoch())})
	record := func(kind string, uid types.UID) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.keys = append(f.keys, kind+"/"+string(uid))
	}
	f.c.builder.enqueue, f.c.builder.enqueueLater = record, record
	if err := f.c.monitors.sync(f.ctx); err != nil {
		t.Fatal(err)
	}
	for _, o := range objects {
		f.observe(o)
	}
	f.takeKeys()
	f.meta.ClearActions()
	return f
}

// observe feeds o to the graph builder as an informer's add event.
func (f *fixture) observe(o *metav1.PartialObjectMetadata) {
	f.c.builder.process(&event{typ: addEvent, obj: o, gvk: o.GroupVersionKind()})
}

// update feeds an informer's update event.
func (f *fixture) update(old, o *metav1.PartialObjectMetadata) {
	f.c.builder.process(&event{typ: updateEvent, obj: o, old: old, gvk: o.GroupVersionKind()})
}

// remove feeds an informer's delete event.
func (f *fixture) remove(o *metav1.PartialObjectMetadata) {
	f.c.builder.process(&event{typ: deleteEvent, obj: o, gvk: o.GroupVersionKind()})
}

// takeKeys returns (and forgets) the keys enqueued so far, sorted.
func (f *fixture) takeKeys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Sorted(slices.Values(f.keys))
	f.keys = nil
	return slices.Compact(out)
}

// sync runs the workers' sync of key.
func (f *fixture) sync(key string) error { return f.c.sync(f.ctx, key) }

// actions describes the metadata client's actions (without lists and
// watches) as "verb resource namespace/name".
func (f *fixture) actions() []string {
	var out []string
	for _, a := range f.meta.Actions() {
		if a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		out = append(out, controllertest.Describe(a).String())
	}
	return out
}

// get returns the fake API's copy of a configmap.
func (f *fixture) get(namespace, name string) (*metav1.PartialObjectMetadata, error) {
	return f.meta.Resource(cmGVR).Namespace(namespace).Get(f.ctx, name, metav1.GetOptions{})
}

var cmGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// object returns the metadata of a configmap (kind "ConfigMap" unless
// kind says "Namespace" or another kind) with uid "uid-<name>".
func object(apiVersion, kind, namespace, name string, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: kind},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID("uid-" + name), ResourceVersion: "1", OwnerReferences: owners},
	}
}

func cm(name string, owners ...metav1.OwnerReference) *metav1.PartialObjectMetadata {
	return object("v1", "ConfigMap", "default", name, owners...)
}

// ref returns an ownerReference to o, blocking when block.
func ref(o *metav1.PartialObjectMetadata, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: o.APIVersion, Kind: o.Kind, Name: o.Name, UID: o.UID, BlockOwnerDeletion: &block}
}

func deleting(o *metav1.PartialObjectMetadata, finalizers ...string) *metav1.PartialObjectMetadata {
	o = o.DeepCopy()
	now := metav1.Now()
	o.DeletionTimestamp = &now
	o.Finalizers = finalizers
	return o
}

func key(kind string, o *metav1.PartialObjectMetadata) string {
	return fmt.Sprintf("%s/%s", kind, o.UID)
}

func controllertestDescribe(a k8stesting.Action) string { return controllertest.Describe(a).String() }
