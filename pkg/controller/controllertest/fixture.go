// Package controllertest is the fixture controllers' unit tests use (the
// sample-controller test shape): a fake clientset and shared informers
// seeded with objects — their indexers filled directly, no goroutines —
// a fake clock, a way to call a controller's sync(ctx, key) directly, and
// the API actions sync made, with list and watch left out, to assert.
//
//	f := controllertest.New(t, rs, pod1)
//	c := NewController(f.Client, f.Informers.Apps().V1().ReplicaSets(), f.Informers.Core().V1().Pods(), f.Logger)
//	f.MustSync(c.sync, "default/web")
//	f.ExpectActions(controllertest.Action{Verb: "create", Resource: "pods", Namespace: "default", Name: "web-"})
//	pod := controllertest.Find[*corev1.Pod](f, f.Actions()[0])
package controllertest

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Epoch returns the fake clock's start: fixed, so tests are reproducible.
func Epoch() time.Time { return time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC) }

// Fixture holds a fake API and informers for one test.
type Fixture struct {
	T testing.TB
	// Ctx ends when the test does.
	Ctx context.Context
	// Client records every action; objects given to New or Seed are in
	// its tracker without being recorded.
	Client *fake.Clientset
	// Informers is a factory over Client (no resync). Its informers are
	// not started unless Start is called: seeded objects are put into
	// their indexers directly.
	Informers informers.SharedInformerFactory
	// Clock starts at Epoch(); give it to the controller under test.
	Clock *clocktesting.FakeClock
	// Logger writes to the test's output at debug level.
	Logger *slog.Logger

	created atomic.Int64
}

// New returns a fixture whose API and informer caches hold objects. The
// fake API behaves like the apiserver on create where controllers depend
// on it: it fills metadata.uid, metadata.creationTimestamp (from Clock)
// and, for generateName, metadata.name (generateName + a counter).
func New(t testing.TB, objects ...runtime.Object) *Fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	client := fake.NewClientset()
	f := &Fixture{
		T:         t,
		Ctx:       ctx,
		Client:    client,
		Informers: informers.NewSharedInformerFactory(client, 0),
		Clock:     clocktesting.NewFakeClock(Epoch()),
		Logger:    slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	client.PrependReactor("create", "*", f.fillMetadata)
	t.Cleanup(func() {
		cancel()
		f.Informers.Shutdown()
	})
	f.Seed(objects...)
	return f
}

// fillMetadata is a reactor that does what the apiserver does to a created
// object's metadata, then lets the tracker store it.
func (f *Fixture) fillMetadata(a k8stesting.Action) (bool, runtime.Object, error) {
	obj, ok := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
	if !ok || a.GetSubresource() != "" {
		return false, nil, nil
	}
	if obj.GetName() == "" && obj.GetGenerateName() != "" {
		obj.SetName(fmt.Sprintf("%s%05d", obj.GetGenerateName(), f.created.Add(1)))
	}
	if obj.GetUID() == "" {
		obj.SetUID(types.UID(fmt.Sprintf("uid-%s-%s", obj.GetNamespace(), obj.GetName())))
	}
	if ts := obj.GetCreationTimestamp(); ts.IsZero() {
		obj.SetCreationTimestamp(metav1.NewTime(f.Clock.Now()))
	}
	return false, nil, nil
}

// Seed puts objects into the fake API and into their informers' caches.
// Call it before Start.
func (f *Fixture) Seed(objects ...runtime.Object) {
	f.T.Helper()
	f.SeedAPI(objects...)
	f.SeedCache(objects...)
}

// SeedAPI puts objects into the fake API only (a cache that lags).
func (f *Fixture) SeedAPI(objects ...runtime.Object) {
	f.T.Helper()
	for _, obj := range objects {
		if err := f.Client.Tracker().Add(obj); err != nil {
			f.T.Fatalf("seeding the fake API with %T: %v", obj, err)
		}
	}
}

// SeedCache puts objects into their informers' indexers only (an object
// the API no longer has). The informer of each object's type is created
// in Informers, so the controller built next shares it.
func (f *Fixture) SeedCache(objects ...runtime.Object) {
	f.T.Helper()
	for _, obj := range objects {
		gvks, _, err := scheme.Scheme.ObjectKinds(obj)
		if err != nil {
			f.T.Fatalf("seeding the cache: %v", err)
		}
		gvr, _ := meta.UnsafeGuessKindToResource(gvks[0])
		inf, err := f.Informers.ForResource(gvr)
		if err != nil {
			f.T.Fatalf("seeding the cache with %s: %v", gvks[0], err)
		}
		if err := inf.Informer().GetIndexer().Add(obj); err != nil {
			f.T.Fatalf("seeding the cache with %s: %v", gvks[0], err)
		}
	}
}

// Start starts the informers and waits for their caches, for tests that
// drive a controller through Run rather than sync.
func (f *Fixture) Start() {
	f.T.Helper()
	f.Informers.Start(f.Ctx.Done())
	for typ, ok := range f.Informers.WaitForCacheSync(f.Ctx.Done()) {
		if !ok {
			f.T.Fatalf("informer for %v did not sync", typ)
		}
	}
}

// Sync calls sync with key and the fixture's context.
func (f *Fixture) Sync(sync controller.SyncFunc, key string) error {
	return sync(f.Ctx, key)
}

// MustSync calls sync with key and fails the test on an error.
func (f *Fixture) MustSync(sync controller.SyncFunc, key string) {
	f.T.Helper()
	if err := sync(f.Ctx, key); err != nil {
		f.T.Fatalf("sync %q: %v", key, err)
	}
}

// Actions returns the actions recorded so far, without lists and watches
// (the informers' own traffic).
func (f *Fixture) Actions() []k8stesting.Action {
	var out []k8stesting.Action
	for _, a := range f.Client.Actions() {
		if a.GetVerb() == "list" || a.GetVerb() == "watch" {
			continue
		}
		out = append(out, a)
	}
	return out
}

// ClearActions forgets the actions recorded so far.
func (f *Fixture) ClearActions() { f.Client.ClearActions() }

// ExpectActions fails the test unless the recorded actions (see Actions)
// are want, in order.
func (f *Fixture) ExpectActions(want ...Action) {
	f.T.Helper()
	ExpectActions(f.T, f.Actions(), want...)
}
