package storagetest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// eventTimeout bounds the wait for an expected event; noEventWait is how long a
// test waits to conclude that no event comes.
const (
	eventTimeout = 10 * time.Second
	noEventWait  = 300 * time.Millisecond
)

func startWatch(ctx context.Context, t *testing.T, s storage.Interface, key string, opts storage.ListOptions) watch.Interface {
	t.Helper()
	w, err := s.Watch(ctx, key, opts)
	if err != nil {
		t.Fatalf("watch %s: %v", key, err)
	}
	t.Cleanup(w.Stop)
	return w
}

// next returns the next event that is not a BOOKMARK.
func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	timeout := time.After(eventTimeout)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed, want an event")
			}
			if ev.Type != watch.Bookmark {
				return ev
			}
		case <-timeout:
			t.Fatalf("no event within %v", eventTimeout)
		}
	}
}

// expect reads the next non-bookmark event and checks its type, pod and
// resourceVersion (when rv > 0).
func expect(t *testing.T, w watch.Interface, typ watch.EventType, name string, rv int64) *corev1.Pod {
	t.Helper()
	ev := next(t, w)
	pod, ok := ev.Object.(*corev1.Pod)
	if ev.Type != typ || !ok || pod.Name != name {
		t.Fatalf("event %s %s, want %s of pod %s", ev.Type, describe(ev.Object), typ, name)
	}
	if rv > 0 && pod.ResourceVersion != rvString(rv) {
		t.Fatalf("%s %s at resourceVersion %s, want %d", typ, name, pod.ResourceVersion, rv)
	}
	return pod
}

func expectNothing(t *testing.T, w watch.Interface) {
	t.Helper()
	deadline := time.After(noEventWait)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed, want it open and quiet")
			}
			if ev.Type != watch.Bookmark {
				t.Fatalf("unexpected event %s %s", ev.Type, describe(ev.Object))
			}
		case <-deadline:
			return
		}
	}
}

func expectClosed(t *testing.T, w watch.Interface) {
	t.Helper()
	timeout := time.After(eventTimeout)
	for {
		select {
		case _, ok := <-w.ResultChan():
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("watch not closed within %v", eventTimeout)
		}
	}
}

func describe(obj any) string {
	switch o := obj.(type) {
	case *corev1.Pod:
		return fmt.Sprintf("pod %s/%s@%s", o.Namespace, o.Name, o.ResourceVersion)
	case *metav1.Status:
		return fmt.Sprintf("status %d %s: %s", o.Code, o.Reason, o.Message)
	default:
		return fmt.Sprintf("%T", obj)
	}
}

// RunTestWatch checks Watch: resuming from a revision, initial events, single
// keys and prefixes, selector transitions, expired revisions, bookmarks and
// stopping.
func RunTestWatch(t *testing.T, factory Factory) {
	t.Run("from a revision", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		created := create(ctx, t, s, newPod("ns", "a", nil))
		w := startWatch(ctx, t, s, "/pods", storage.ListOptions{ResourceVersion: created.ResourceVersion, Recursive: true})
		updated := update(ctx, t, s, "ns", "a", func(p *corev1.Pod) { p.Labels = map[string]string{"v": "2"} })
		b := create(ctx, t, s, newPod("other", "b", nil))
		deleted := del(ctx, t, s, "ns", "a")
		expect(t, w, watch.Modified, "a", rv(t, updated))
		expect(t, w, watch.Added, "b", rv(t, b))
		if got := expect(t, w, watch.Deleted, "a", rv(t, deleted)); got.Labels["v"] != "2" {
			t.Errorf("DELETED carries labels %v, want the last state", got.Labels)
		}
		expectNothing(t, w)
	})
	t.Run("older revision replays", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		a := create(ctx, t, s, newPod("ns", "a", nil))
		b := create(ctx, t, s, newPod("ns", "b", nil))
		w := startWatch(ctx, t, s, "/pods/ns", storage.ListOptions{ResourceVersion: rvString(rv(t, a) - 1), Recursive: true})
		expect(t, w, watch.Added, "a", rv(t, a))
		expect(t, w, watch.Added, "b", rv(t, b))
	})
	t.Run(`from "" sends the current state first`, func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		a := create(ctx, t, s, newPod("ns", "a", nil))
		create(ctx, t, s, newPod("ns", "b", nil))
		del(ctx, t, s, "ns", "b")
		create(ctx, t, s, newPod("other", "c", nil))
		w := startWatch(ctx, t, s, "/pods/ns", storage.ListOptions{ResourceVersion: "", Recursive: true})
		expect(t, w, watch.Added, "a", rv(t, a))
		expectNothing(t, w)
		c := create(ctx, t, s, newPod("ns", "c", nil))
		expect(t, w, watch.Added, "c", rv(t, c))
	})
	t.Run(`from "0" sends a state first`, func(t *testing.T) {
		// "Any" state: a cache may start from a slightly older one, but what the
		// client sees must converge.
		ctx, s := testContext(t), factory(t).Store
		create(ctx, t, s, newPod("ns", "a", nil))
		create(ctx, t, s, newPod("ns", "b", nil))
		del(ctx, t, s, "ns", "b")
		w := startWatch(ctx, t, s, "/pods/ns", storage.ListOptions{ResourceVersion: "0", Recursive: true})
		if ev := next(t, w); ev.Type != watch.Added {
			t.Fatalf("first event %s, want ADDED", ev.Type)
		} else {
			replay(t, w, ev, "c", func() { create(ctx, t, s, newPod("ns", "c", nil)) }, []string{"a", "c"})
		}
	})
	t.Run("single key", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		a := create(ctx, t, s, newPod("ns", "a", nil))
		w := startWatch(ctx, t, s, PodKey("ns", "a"), storage.ListOptions{ResourceVersion: a.ResourceVersion})
		create(ctx, t, s, newPod("ns", "ab", nil))
		u := update(ctx, t, s, "ns", "a", func(p *corev1.Pod) { p.Labels = map[string]string{"x": "y"} })
		expect(t, w, watch.Modified, "a", rv(t, u))
		expectNothing(t, w)
	})
	t.Run("selector transitions", func(t *testing.T) { testSelectorTransitions(t, factory) })
	t.Run("too old resourceVersion is 410 Expired", func(t *testing.T) { testWatchExpired(t, factory) })
	t.Run("bookmarks", func(t *testing.T) { testBookmarks(t, factory) })
	t.Run("stop and cancel close the result channel", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		w, err := s.Watch(ctx, "/pods", storage.ListOptions{Recursive: true})
		if err != nil {
			t.Fatal(err)
		}
		w.Stop()
		expectClosed(t, w)
		cctx, cancel := context.WithCancel(ctx)
		w, err = s.Watch(cctx, "/pods", storage.ListOptions{Recursive: true})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		expectClosed(t, w)
		w.Stop() // Stop after the end is harmless
	})
	t.Run("unparsable resourceVersion", func(t *testing.T) {
		ctx, s := testContext(t), factory(t).Store
		if _, err := s.Watch(ctx, "/pods", storage.ListOptions{ResourceVersion: "abc", Recursive: true}); !storage.IsBadRequest(err) {
			t.Errorf("watch: %v, want BadRequest", err)
		}
	})
}

// replay applies first and the following events to a set of pod names, calling
// trigger once after first, until the ADDED event of pod until arrives; the set
// must then be want.
func replay(t *testing.T, w watch.Interface, first watch.Event, until string, trigger func(), want []string) {
	t.Helper()
	state := map[string]bool{}
	ev := first
	trigger()
	for {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			t.Fatalf("event %s %s, want a pod", ev.Type, describe(ev.Object))
		}
		state[pod.Name] = ev.Type != watch.Deleted
		if !state[pod.Name] {
			delete(state, pod.Name)
		}
		if ev.Type == watch.Added && pod.Name == until {
			break
		}
		ev = next(t, w)
	}
	got := slices.Sorted(maps.Keys(state))
	if !slices.Equal(got, want) {
		t.Errorf("state from events %v, want %v", got, want)
	}
}

func testSelectorTransitions(t *testing.T, factory Factory) {
	ctx, s := testContext(t), factory(t).Store
	start := currentRV(ctx, t, s)
	pred := storage.SelectionPredicate{
		Label:    labels.SelectorFromSet(labels.Set{"app": "web"}),
		Field:    fields.OneTermNotEqualSelector("spec.nodeName", "bad"),
		GetAttrs: PodAttrs,
	}
	w := startWatch(ctx, t, s, "/pods", storage.ListOptions{ResourceVersion: rvString(start), Recursive: true, Predicate: pred})
	setApp := func(app string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Labels = map[string]string{"app": app} }
	}
	create(ctx, t, s, newPod("ns", "db", map[string]string{"app": "db"}))
	web := create(ctx, t, s, newPod("ns", "a", map[string]string{"app": "web"}))
	expect(t, w, watch.Added, "a", rv(t, web))

	left := update(ctx, t, s, "ns", "a", setApp("db"))
	got := expect(t, w, watch.Deleted, "a", rv(t, left))
	if got.Labels["app"] != "web" {
		t.Errorf("DELETED on leaving the selector carries app=%s, want the last matching state", got.Labels["app"])
	}
	update(ctx, t, s, "ns", "a", func(p *corev1.Pod) { p.Annotations = map[string]string{"still": "out"} })
	back := update(ctx, t, s, "ns", "a", setApp("web"))
	expect(t, w, watch.Added, "a", rv(t, back))
	mod := update(ctx, t, s, "ns", "a", func(p *corev1.Pod) { p.Annotations = map[string]string{"in": "yes"} })
	expect(t, w, watch.Modified, "a", rv(t, mod))
	moved := update(ctx, t, s, "ns", "a", func(p *corev1.Pod) { p.Spec.NodeName = "bad" })
	expect(t, w, watch.Deleted, "a", rv(t, moved))
	del(ctx, t, s, "ns", "a")
	expectNothing(t, w)
}

func testWatchExpired(t *testing.T, factory Factory) {
	f := factory(t)
	ctx, s := testContext(t), f.Store
	first := create(ctx, t, s, newPod("ns", "a", nil))
	writes := max(50, f.WatchHistory+10)
	for i := range writes {
		update(ctx, t, s, "ns", "a", func(p *corev1.Pod) { p.Annotations = map[string]string{"i": fmt.Sprint(i)} })
	}
	if err := f.Compact(ctx, currentRV(ctx, t, s)); err != nil {
		t.Fatalf("compact: %v", err)
	}
	w := startWatch(ctx, t, s, "/pods", storage.ListOptions{ResourceVersion: first.ResourceVersion, Recursive: true})
	ev := next(t, w)
	status, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok || status.Code != http.StatusGone || status.Reason != metav1.StatusReasonExpired {
		t.Fatalf("event %s %s, want ERROR 410 Expired", ev.Type, describe(ev.Object))
	}
	expectClosed(t, w)

	// From "0" the watch still works: it starts from the current state.
	w = startWatch(ctx, t, s, "/pods", storage.ListOptions{ResourceVersion: "0", Recursive: true})
	expect(t, w, watch.Added, "a", 0)
}

func testBookmarks(t *testing.T, factory Factory) {
	ctx, s := testContext(t), factory(t).Store
	create(ctx, t, s, newPod("ns", "a", nil))
	start := currentRV(ctx, t, s)
	w := startWatch(ctx, t, s, "/pods/ns", storage.ListOptions{
		ResourceVersion: rvString(start), Recursive: true, AllowWatchBookmarks: true})
	// A write outside the watched prefix advances the revision only.
	other := create(ctx, t, s, newPod("other", "b", nil))
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed while waiting for a bookmark")
			}
			if ev.Type != watch.Bookmark {
				t.Fatalf("unexpected event %s %s", ev.Type, describe(ev.Object))
			}
			pod, isPod := ev.Object.(*corev1.Pod)
			if !isPod || pod.Name != "" {
				t.Fatalf("bookmark object %s, want an empty *corev1.Pod", describe(ev.Object))
			}
			if got := rv(t, pod); got < start {
				t.Fatalf("bookmark at %d, before the watch's start %d", got, start)
			} else if got >= rv(t, other) {
				return
			}
		case <-timeout:
			t.Fatalf("no bookmark at or after revision %d within 30s", rv(t, other))
		}
	}
}

// RunTestWatchWithoutBookmarks checks that a watch without AllowWatchBookmarks
// never sends a BOOKMARK.
func RunTestWatchWithoutBookmarks(t *testing.T, factory Factory, wait time.Duration) {
	ctx, s := testContext(t), factory(t).Store
	w := startWatch(ctx, t, s, "/pods", storage.ListOptions{ResourceVersion: rvString(currentRV(ctx, t, s)), Recursive: true})
	create(ctx, t, s, newPod("ns", "a", nil))
	var types []watch.EventType
	deadline := time.After(wait)
	for done := false; !done; {
		select {
		case ev := <-w.ResultChan():
			types = append(types, ev.Type)
		case <-deadline:
			done = true
		}
	}
	if !slices.Equal(types, []watch.EventType{watch.Added}) {
		t.Errorf("events %v, want only ADDED", types)
	}
}
