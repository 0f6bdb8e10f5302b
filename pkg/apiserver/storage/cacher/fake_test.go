package cacher

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// fakeStore is the underlying store of the hermetic tests: lists return a fixed
// state, and each Watch is a fakeWatch the test feeds.
type fakeStore struct {
	storage.Interface // nil: the tests call nothing else

	mu        sync.Mutex
	listRV    int64
	pods      []corev1.Pod
	lists     int
	watches   []*fakeWatch
	watchOpts []storage.ListOptions
	delegated []string // keys of Watch calls outside the cacher's own watch
	progress  int
	newWatch  chan *fakeWatch
}

func newFakeStore(listRV int64, pods ...corev1.Pod) *fakeStore {
	return &fakeStore{listRV: listRV, pods: pods, newWatch: make(chan *fakeWatch, 10)}
}

func (f *fakeStore) GetList(_ context.Context, _ string, _ storage.ListOptions, listObj runtime.Object) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	list := listObj.(*corev1.PodList)
	list.Items = append([]corev1.Pod(nil), f.pods...)
	list.ResourceVersion = storage.FormatResourceVersion(uint64(f.listRV))
	return nil
}

func (f *fakeStore) Watch(_ context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWatch{ch: make(chan watch.Event, 100), stopped: make(chan struct{})}
	if !opts.ProgressNotify {
		f.delegated = append(f.delegated, key)
		return w, nil
	}
	f.watches = append(f.watches, w)
	f.watchOpts = append(f.watchOpts, opts)
	f.newWatch <- w
	return w, nil
}

func (f *fakeStore) GetCurrentResourceVersion(context.Context) (uint64, error) {
	return uint64(f.listRV), nil
}

func (f *fakeStore) RequestWatchProgress(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.progress++
	return nil
}

func (f *fakeStore) counts() (lists, watches, progress int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists, len(f.watches), f.progress
}

// fakeWatch is an underlying watch fed by the test.
type fakeWatch struct {
	ch       chan watch.Event
	stopped  chan struct{}
	stopOnce sync.Once
}

func (w *fakeWatch) ResultChan() <-chan watch.Event { return w.ch }
func (w *fakeWatch) Stop()                          { w.stopOnce.Do(func() { close(w.stopped) }) }

func (w *fakeWatch) send(t *testing.T, typ watch.EventType, obj runtime.Object) {
	t.Helper()
	select {
	case w.ch <- watch.Event{Type: typ, Object: obj}:
	case <-w.stopped:
		t.Fatalf("underlying watch stopped")
	}
}

func (w *fakeWatch) bookmark(t *testing.T, rv int64) {
	t.Helper()
	w.send(t, watch.Bookmark, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: storage.FormatResourceVersion(uint64(rv))}})
}

func pod(ns, name string, rv int64, lbls map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Namespace: ns, Name: name, Labels: lbls, ResourceVersion: storage.FormatResourceVersion(uint64(rv)),
	}}
}

// start returns a started Cacher over store and the underlying watch it opened.
func start(t *testing.T, store *fakeStore, clk *testingclock.FakeClock, tweak func(*Config)) (*Cacher, *fakeWatch) {
	t.Helper()
	cfg := Config{
		Storage:           store,
		ResourcePrefix:    "/pods",
		NewFunc:           func() runtime.Object { return &corev1.Pod{} },
		NewListFunc:       func() runtime.Object { return &corev1.PodList{} },
		WindowSize:        4,
		WatcherBufferSize: 10,
		BookmarkInterval:  time.Minute,
		Clock:             clk,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c, nextWatch(t, store)
}

func nextWatch(t *testing.T, store *fakeStore) *fakeWatch {
	t.Helper()
	select {
	case w := <-store.newWatch:
		return w
	case <-time.After(10 * time.Second):
		t.Fatal("the cacher opened no underlying watch")
		return nil
	}
}

func mustWatch(t *testing.T, c *Cacher, key string, opts storage.ListOptions) watch.Interface {
	t.Helper()
	w, err := c.Watch(context.Background(), key, opts)
	if err != nil {
		t.Fatalf("watch %s: %v", key, err)
	}
	t.Cleanup(w.Stop)
	return w
}

// recv returns the next event of w.
func recv(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
		return watch.Event{}
	}
}

func expectEvent(t *testing.T, w watch.Interface, typ watch.EventType, name, rv string) {
	t.Helper()
	ev := recv(t, w)
	m, err := metaOf(ev.Object)
	if ev.Type != typ || err != nil || m.GetName() != name || m.GetResourceVersion() != rv {
		t.Fatalf("got %s %v, want %s %s@%s", ev.Type, ev.Object, typ, name, rv)
	}
}

func expectQuiet(t *testing.T, w watch.Interface) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		t.Fatalf("unexpected event %s %v (open %v)", ev.Type, ev.Object, ok)
	case <-time.After(100 * time.Millisecond):
	}
}

func expectClosed(t *testing.T, w watch.Interface) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-w.ResultChan():
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("watch not closed")
		}
	}
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	return meta.Accessor(obj)
}
