package cacher

import (
	"context"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

func TestFanOutUsesOneUnderlyingWatch(t *testing.T) {
	store := newFakeStore(10, *pod("ns", "a", 5, nil))
	c, uw := start(t, store, testingclock.NewFakeClock(time.Now()), nil)
	var watchers []watch.Interface
	for range 20 {
		watchers = append(watchers, mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true}))
	}
	uw.send(t, watch.Added, pod("ns", "b", 11, nil))
	uw.send(t, watch.Modified, pod("ns", "a", 12, nil))
	for _, w := range watchers {
		expectEvent(t, w, watch.Added, "b", "11")
		expectEvent(t, w, watch.Modified, "a", "12")
	}
	if lists, watches, _ := store.counts(); lists != 1 || watches != 1 {
		t.Errorf("underlying lists %d watches %d, want 1 and 1", lists, watches)
	}
	if got := store.watchOpts[0]; got.ResourceVersion != "10" || !got.Recursive || !got.ProgressNotify {
		t.Errorf("underlying watch options %+v, want recursive from the list's revision with progress", got)
	}
}

func TestInitialStateAndPrefixes(t *testing.T) {
	store := newFakeStore(10, *pod("ns", "b", 7, nil), *pod("ns", "a", 5, nil), *pod("nsx", "c", 6, nil))
	c, uw := start(t, store, testingclock.NewFakeClock(time.Now()), nil)
	w := mustWatch(t, c, "/pods/ns", storage.ListOptions{ResourceVersion: "0", Recursive: true})
	expectEvent(t, w, watch.Added, "a", "5")
	expectEvent(t, w, watch.Added, "b", "7")
	expectQuiet(t, w)
	single := mustWatch(t, c, "/pods/ns/a", storage.ListOptions{ResourceVersion: "0"})
	expectEvent(t, single, watch.Added, "a", "5")
	uw.send(t, watch.Modified, pod("nsx", "c", 11, nil))
	uw.send(t, watch.Deleted, pod("ns", "a", 12, nil))
	expectEvent(t, w, watch.Deleted, "a", "12")
	expectEvent(t, single, watch.Deleted, "a", "12")

	// A watch from "" waits until the cache has reached the store's revision.
	store.mu.Lock()
	store.listRV = 13
	store.mu.Unlock()
	done := make(chan watch.Interface)
	go func() {
		w, err := c.Watch(context.Background(), "/pods/ns", storage.ListOptions{Recursive: true})
		if err != nil {
			t.Errorf("watch from \"\": %v", err)
		}
		done <- w
	}()
	select {
	case <-done:
		t.Fatal("watch from \"\" did not wait for the cache to be fresh")
	case <-time.After(100 * time.Millisecond):
	}
	uw.send(t, watch.Added, pod("ns", "d", 13, nil))
	fresh := <-done
	t.Cleanup(fresh.Stop)
	expectEvent(t, fresh, watch.Added, "b", "7")
	expectEvent(t, fresh, watch.Added, "d", "13")
}

func TestWindowReplayAndExpiry(t *testing.T) {
	store := newFakeStore(10)
	c, uw := start(t, store, testingclock.NewFakeClock(time.Now()), nil) // window of 4
	for rv := int64(11); rv <= 16; rv++ {
		uw.send(t, watch.Added, pod("ns", "p"+storage.FormatResourceVersion(uint64(rv)), rv, nil))
	}
	// Wait for the events to be applied.
	if err := c.waitFresh(context.Background(), "", 16); err != nil {
		t.Fatal(err)
	}
	w := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "13", Recursive: true})
	expectEvent(t, w, watch.Added, "p14", "14")
	expectEvent(t, w, watch.Added, "p15", "15")
	expectEvent(t, w, watch.Added, "p16", "16")
	expectQuiet(t, w)

	old := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "11", Recursive: true})
	ev := recv(t, old)
	st, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok || st.Code != http.StatusGone || st.Reason != metav1.StatusReasonExpired ||
		st.Message != "too old resource version: 11 (12)" || st.Kind != "Status" || st.APIVersion != "v1" {
		t.Fatalf("got %s %+v, want ERROR 410 Expired too old resource version: 11 (12)", ev.Type, ev.Object)
	}
	expectClosed(t, old)

	// A watch from a revision the cache has not reached skips what it asked not to see.
	future := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "18", Recursive: true})
	uw.send(t, watch.Added, pod("ns", "p17", 17, nil))
	uw.send(t, watch.Added, pod("ns", "p19", 19, nil))
	expectEvent(t, future, watch.Added, "p19", "19")
}

func TestSelectorTransitions(t *testing.T) {
	store := newFakeStore(10, *pod("ns", "a", 5, map[string]string{"app": "web"}))
	c, uw := start(t, store, testingclock.NewFakeClock(time.Now()), nil)
	w := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true,
		Predicate: storage.SelectionPredicate{Label: labels.SelectorFromSet(labels.Set{"app": "web"})}})
	uw.send(t, watch.Modified, pod("ns", "a", 11, map[string]string{"app": "db"}))
	uw.send(t, watch.Modified, pod("ns", "a", 12, map[string]string{"app": "db", "x": "y"}))
	uw.send(t, watch.Modified, pod("ns", "a", 13, map[string]string{"app": "web"}))
	uw.send(t, watch.Modified, pod("ns", "a", 14, map[string]string{"app": "web", "x": "y"}))
	uw.send(t, watch.Added, pod("ns", "b", 15, map[string]string{"app": "db"}))
	ev := recv(t, w)
	if p := ev.Object.(*corev1.Pod); ev.Type != watch.Deleted || p.ResourceVersion != "11" || p.Labels["app"] != "web" {
		t.Fatalf("got %s %+v, want DELETED of the last matching state at 11", ev.Type, p.ObjectMeta)
	}
	expectEvent(t, w, watch.Added, "a", "13")
	expectEvent(t, w, watch.Modified, "a", "14")
	expectQuiet(t, w)
}

func TestSlowWatcherIsTerminated(t *testing.T) {
	store := newFakeStore(10)
	c, uw := start(t, store, testingclock.NewFakeClock(time.Now()), func(cfg *Config) {
		cfg.WatcherBufferSize = 2
		cfg.WindowSize = 100
		cfg.Clock = clock.RealClock{} // the dispatch timeout must expire
		cfg.DispatchTimeout = 50 * time.Millisecond
	})
	slow := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true})
	fast := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true})
	received := make(chan int)
	go func() {
		n := 0
		for range fast.ResultChan() {
			n++
			if n == 20 {
				break
			}
		}
		received <- n
	}()
	for rv := int64(11); rv <= 30; rv++ {
		uw.send(t, watch.Added, pod("ns", "p"+storage.FormatResourceVersion(uint64(rv)), rv, nil))
	}
	select {
	case n := <-received:
		if n != 20 {
			t.Fatalf("fast watcher got %d events, want 20", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the slow watcher blocked the fast one")
	}
	// The slow watcher delivers what it buffered (at most its buffer plus one in
	// flight), then its channel closes.
	n := 0
	for range slow.ResultChan() {
		n++
	}
	if n == 0 || n > 3 {
		t.Errorf("slow watcher delivered %d events before closing, want 1..3", n)
	}
}

func TestBookmarks(t *testing.T) {
	store := newFakeStore(10)
	clk := testingclock.NewFakeClock(time.Now())
	c, uw := start(t, store, clk, nil)
	with := mustWatch(t, c, "/pods/ns", storage.ListOptions{ResourceVersion: "10", Recursive: true, AllowWatchBookmarks: true})
	without := mustWatch(t, c, "/pods/ns", storage.ListOptions{ResourceVersion: "10", Recursive: true})

	// A tick asks the store for progress; the bookmark goes out when it arrives.
	tick(t, clk, time.Minute)
	waitFor(t, func() bool { _, _, p := store.counts(); return p == 1 })
	expectQuiet(t, with)
	uw.bookmark(t, 25)
	ev := recv(t, with)
	if p, ok := ev.Object.(*corev1.Pod); ev.Type != watch.Bookmark || !ok || p.ResourceVersion != "25" || p.Name != "" {
		t.Fatalf("got %s %+v, want an empty pod BOOKMARK at 25", ev.Type, ev.Object)
	}
	// No progress arrives in the next round: the one after sends what the cache has.
	tick(t, clk, time.Minute)
	waitFor(t, func() bool { _, _, p := store.counts(); return p == 2 })
	tick(t, clk, time.Minute)
	ev = recv(t, with)
	if ev.Type != watch.Bookmark || ev.Object.(*corev1.Pod).ResourceVersion != "25" {
		t.Fatalf("got %s %+v, want a BOOKMARK at 25", ev.Type, ev.Object)
	}
	expectQuiet(t, without)
}

func TestRelistOnExpiredUnderlyingWatch(t *testing.T) {
	store := newFakeStore(10, *pod("ns", "a", 5, nil))
	c, uw := start(t, store, testingclock.NewFakeClock(time.Now()), nil)
	w := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true})
	store.mu.Lock()
	store.listRV = 40
	store.mu.Unlock()
	uw.send(t, watch.Error, storage.WatchErrorStatus(storage.NewWatchExpiredError("/pods", 10, 30)))
	expectClosed(t, w)
	uw2 := nextWatch(t, store)
	if got := store.watchOpts[1].ResourceVersion; got != "40" {
		t.Errorf("rewatch from %s, want the new list's 40", got)
	}
	if lists, _, _ := store.counts(); lists != 2 {
		t.Errorf("%d lists, want 2", lists)
	}
	old := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "20", Recursive: true})
	if ev := recv(t, old); ev.Type != watch.Error {
		t.Errorf("watch from before the relist: %s, want ERROR", ev.Type)
	}
	w = mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "40", Recursive: true})
	uw2.send(t, watch.Added, pod("ns", "b", 41, nil))
	expectEvent(t, w, watch.Added, "b", "41")
}

func TestResumeAfterUnderlyingWatchEnds(t *testing.T) {
	store := newFakeStore(10)
	c, uw := start(t, store, testingclock.NewFakeClock(time.Now()), nil)
	w := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true})
	uw.send(t, watch.Added, pod("ns", "a", 11, nil))
	close(uw.ch)
	uw2 := nextWatch(t, store)
	if got := store.watchOpts[1].ResourceVersion; got != "11" {
		t.Errorf("resumed from %s, want 11", got)
	}
	uw2.send(t, watch.Added, pod("ns", "b", 12, nil))
	expectEvent(t, w, watch.Added, "a", "11")
	expectEvent(t, w, watch.Added, "b", "12")
}

func TestStopAndDelegation(t *testing.T) {
	store := newFakeStore(10)
	c, _ := start(t, store, testingclock.NewFakeClock(time.Now()), nil)
	if _, err := c.Watch(context.Background(), "/services", storage.ListOptions{Recursive: true}); err != nil {
		t.Fatal(err)
	}
	if len(store.delegated) != 1 || store.delegated[0] != "/services" {
		t.Errorf("delegated watches %v, want [/services]", store.delegated)
	}
	if _, err := c.Watch(context.Background(), "/pods", storage.ListOptions{ResourceVersion: "x"}); !storage.IsBadRequest(err) {
		t.Errorf("bad resourceVersion: %v, want BadRequest", err)
	}
	yes := true
	if _, err := c.Watch(context.Background(), "/pods", storage.ListOptions{SendInitialEvents: &yes}); !storage.IsBadRequest(err) {
		t.Errorf("sendInitialEvents: %v, want BadRequest", err)
	}
	w := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true})
	stopped := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true})
	stopped.Stop()
	expectClosed(t, stopped)
	c.Stop()
	expectClosed(t, w)
	if _, err := c.Watch(context.Background(), "/pods", storage.ListOptions{ResourceVersion: "10"}); err == nil {
		t.Error("watch after Stop succeeded")
	}
}

func TestRingSince(t *testing.T) {
	r := newRing(3)
	for rv := int64(1); rv <= 5; rv++ {
		if ev := r.push(&event{rv: rv}); (ev != nil) != (rv > 3) {
			t.Fatalf("push %d evicted %v", rv, ev)
		}
	}
	for from, want := range map[int64][]int64{0: {3, 4, 5}, 3: {4, 5}, 4: {5}, 5: {}, 9: {}} {
		var got []int64
		for _, e := range r.since(from) {
			got = append(got, e.rv)
		}
		if len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) {
			t.Errorf("since(%d) = %v, want %v", from, got, want)
		}
	}
}

// tick advances clk by d once the bookmark loop waits on its ticker.
func tick(t *testing.T, clk *testingclock.FakeClock, d time.Duration) {
	t.Helper()
	waitFor(t, clk.HasWaiters)
	clk.Step(d)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPredicateAttrsWithoutConfiguredGetAttrs(t *testing.T) {
	store := newFakeStore(10)
	c, uw := start(t, store, testingclock.NewFakeClock(time.Now()), nil)
	onNode := func(name, node string, rv int64) *corev1.Pod {
		p := pod("ns", name, rv, nil)
		p.Spec.NodeName = node
		return p
	}
	nodeAttrs := func(obj runtime.Object) (labels.Set, fields.Set, error) {
		l, f, err := storage.DefaultNamespaceScopedAttrs(obj)
		if err == nil {
			f["spec.nodeName"] = obj.(*corev1.Pod).Spec.NodeName
		}
		return l, f, err
	}
	w := mustWatch(t, c, "/pods", storage.ListOptions{ResourceVersion: "10", Recursive: true,
		Predicate: storage.SelectionPredicate{Field: fields.OneTermEqualSelector("spec.nodeName", "n1"), GetAttrs: nodeAttrs}})
	uw.send(t, watch.Added, onNode("a", "n2", 11))
	uw.send(t, watch.Added, onNode("b", "n1", 12))
	expectEvent(t, w, watch.Added, "b", "12")
}

// TestConsistentListFromCache: a list at "" (most recent) is served from the
// cache once it has reached the store's current revision, with everything
// written before; a cache that does not catch up in time, and a paged list,
// go to the store.
func TestConsistentListFromCache(t *testing.T) {
	store := newFakeStore(10, *pod("ns", "a", 5, nil))
	clk := testingclock.NewFakeClock(time.Now())
	c, uw := start(t, store, clk, nil)
	list := func(opts storage.ListOptions) chan *corev1.PodList {
		out := make(chan *corev1.PodList, 1)
		go func() {
			l := &corev1.PodList{}
			if err := c.GetList(context.Background(), "/pods/ns", opts, l); err != nil {
				t.Errorf("list: %v", err)
			}
			out <- l
		}()
		return out
	}

	store.mu.Lock()
	store.listRV = 12 // b was written to etcd; the cache has not seen it yet
	store.mu.Unlock()
	got := list(storage.ListOptions{Recursive: true})
	select {
	case l := <-got:
		t.Fatalf("a consistent list did not wait for the cache: %d items at %s", len(l.Items), l.ResourceVersion)
	case <-time.After(100 * time.Millisecond):
	}
	uw.send(t, watch.Added, pod("ns", "b", 12, nil))
	l := <-got
	if len(l.Items) != 2 || l.Items[1].Name != "b" || l.ResourceVersion != "12" {
		t.Errorf("list %d items at %s, want a and b at 12", len(l.Items), l.ResourceVersion)
	}
	if lists, _, _ := store.counts(); lists != 1 {
		t.Errorf("the store was listed %d times, want only the cacher's initial list", lists)
	}

	// The cache lags and no progress comes: after FreshnessTimeout the
	// store answers.
	store.mu.Lock()
	store.listRV = 30
	store.mu.Unlock()
	_, _, progressBefore := store.counts()
	got = list(storage.ListOptions{Recursive: true})
	waitFor(t, func() bool { _, _, p := store.counts(); return p > progressBefore })
	clk.Step(DefaultFreshnessTimeout)
	if l := <-got; l.ResourceVersion != "30" {
		t.Errorf("fallback list at %s, want the store's 30", l.ResourceVersion)
	}
	if lists, _, _ := store.counts(); lists != 2 {
		t.Errorf("store lists %d, want 2 after the fallback", lists)
	}

	// Paged lists keep going to the store (continue tokens come from etcd).
	<-list(storage.ListOptions{Recursive: true, Limit: 1})
	if lists, _, _ := store.counts(); lists != 3 {
		t.Errorf("store lists %d, want 3 after a paged list", lists)
	}
}
