package memory

import (
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

func pod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
}

func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
		return watch.Event{}
	}
}

func TestTTLExpiresOnTheInjectedClock(t *testing.T) {
	ctx := testContext(t)
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newTestStore(t, Config{Clock: clk})
	created := &corev1.Pod{}
	if err := s.Create(ctx, "/pods/ns/ev", pod("ev"), created, 60); err != nil {
		t.Fatal(err)
	}
	w, err := s.Watch(ctx, "/pods", storage.ListOptions{ResourceVersion: created.ResourceVersion, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	// An update keeps the expiry.
	clk.Step(59 * time.Second)
	err = s.GuaranteedUpdate(ctx, "/pods/ns/ev", &corev1.Pod{}, false, nil, func(obj runtime.Object) (runtime.Object, error) {
		obj.(*corev1.Pod).Labels = map[string]string{"n": "1"}
		return obj, nil
	})
	if err != nil {
		t.Fatalf("update before expiry: %v", err)
	}
	if ev := nextEvent(t, w); ev.Type != watch.Modified {
		t.Fatalf("event %s, want MODIFIED", ev.Type)
	}
	clk.Step(time.Second)
	if err := s.Get(ctx, "/pods/ns/ev", storage.GetOptions{}, &corev1.Pod{}); !storage.IsNotFound(err) {
		t.Fatalf("get after the ttl: %v, want NotFound", err)
	}
	ev := nextEvent(t, w)
	if p, ok := ev.Object.(*corev1.Pod); ev.Type != watch.Deleted || !ok || p.Labels["n"] != "1" {
		t.Fatalf("event %s %v, want DELETED of the last state", ev.Type, ev.Object)
	}
	if n := s.Expire(); n != 0 {
		t.Errorf("Expire deleted %d keys again", n)
	}
	// A key without a TTL never expires.
	if err := s.Create(ctx, "/pods/ns/keep", pod("keep"), nil, 0); err != nil {
		t.Fatal(err)
	}
	clk.Step(24 * time.Hour)
	if n := s.Expire(); n != 0 {
		t.Errorf("Expire deleted %d keys without a ttl", n)
	}
}

func TestHistoryIsBounded(t *testing.T) {
	ctx := testContext(t)
	const size = 4
	s := newTestStore(t, Config{HistorySize: size})
	first := &corev1.Pod{}
	if err := s.Create(ctx, "/pods/ns/a", pod("a"), first, 0); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * size {
		if err := s.Create(ctx, "/pods/ns/p"+string(rune('a'+i)), pod("p"+string(rune('a'+i))), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	// The first revision is gone for exact lists and watches...
	exact := storage.ListOptions{Recursive: true, ResourceVersion: first.ResourceVersion,
		ResourceVersionMatch: metav1.ResourceVersionMatchExact}
	if err := s.GetList(ctx, "/pods", exact, &corev1.PodList{}); !storage.IsExpired(err) {
		t.Errorf("exact list at the first revision: %v, want Expired", err)
	}
	w, err := s.Watch(ctx, "/pods", storage.ListOptions{ResourceVersion: first.ResourceVersion, Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := nextEvent(t, w)
	if st, ok := ev.Object.(*metav1.Status); ev.Type != watch.Error || !ok || st.Code != http.StatusGone {
		t.Fatalf("watch from a dropped revision: %s %v, want ERROR 410", ev.Type, ev.Object)
	}
	// ...while the last HistorySize revisions stay readable.
	cur, err := s.GetCurrentResourceVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recent := storage.FormatResourceVersion(cur - size + 1)
	list := &corev1.PodList{}
	exact.ResourceVersion = recent
	if err := s.GetList(ctx, "/pods", exact, list); err != nil {
		t.Fatalf("exact list at %s: %v", recent, err)
	}
	if want := 1 + 3*size - size + 1; len(list.Items) != want {
		t.Errorf("%d items at revision %s, want %d", len(list.Items), recent, want)
	}
	// And the store still holds every object.
	if err := s.GetList(ctx, "/pods", storage.ListOptions{Recursive: true}, list); err != nil || len(list.Items) != 1+3*size {
		t.Errorf("list: %v, %d items, want %d", err, len(list.Items), 1+3*size)
	}
}

func TestRequestWatchProgressSendsABookmark(t *testing.T) {
	ctx := testContext(t)
	s := newTestStore(t, Config{ProgressNotifyInterval: -1})
	if err := s.Create(ctx, "/pods/ns/a", pod("a"), nil, 0); err != nil {
		t.Fatal(err)
	}
	cur, _ := s.GetCurrentResourceVersion(ctx)
	w, err := s.Watch(ctx, "/pods/other", storage.ListOptions{
		ResourceVersion: storage.FormatResourceVersion(cur), Recursive: true, ProgressNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	plain, err := s.Watch(ctx, "/pods/other", storage.ListOptions{ResourceVersion: storage.FormatResourceVersion(cur), Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Stop()
	// A write the watch does not see, then a progress request.
	if err := s.Create(ctx, "/pods/ns/b", pod("b"), nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.RequestWatchProgress(ctx); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, w)
	p, ok := ev.Object.(*corev1.Pod)
	if ev.Type != watch.Bookmark || !ok || p.ResourceVersion != storage.FormatResourceVersion(cur+1) {
		t.Fatalf("event %s %v, want BOOKMARK at %d", ev.Type, ev.Object, cur+1)
	}
	select {
	case ev := <-plain.ResultChan():
		t.Errorf("watch without bookmarks got %s", ev.Type)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestPeriodicBookmarksFollowTheClock(t *testing.T) {
	ctx := testContext(t)
	clk := testingclock.NewFakeClock(time.Now())
	s := newTestStore(t, Config{Clock: clk, ProgressNotifyInterval: time.Minute})
	w, err := s.Watch(ctx, "/pods", storage.ListOptions{ResourceVersion: "1", Recursive: true, AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for deadline := time.Now().Add(10 * time.Second); !clk.HasWaiters(); {
		if time.Now().After(deadline) {
			t.Fatal("the watch started no ticker")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case ev := <-w.ResultChan():
		t.Fatalf("event %s before the interval passed", ev.Type)
	case <-time.After(50 * time.Millisecond):
	}
	clk.Step(time.Minute)
	if ev := nextEvent(t, w); ev.Type != watch.Bookmark {
		t.Fatalf("event %s, want BOOKMARK", ev.Type)
	}
}

func TestKeysWithAndWithoutLeadingSlashAreOne(t *testing.T) {
	ctx := testContext(t)
	s := newTestStore(t, Config{})
	if err := s.Create(ctx, "pods/ns/a", pod("a"), nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "/pods/ns/a", pod("a"), nil, 0); !storage.IsExists(err) {
		t.Fatalf("create of the same key with a slash: %v, want KeyExists", err)
	}
}
