package controller_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// recorder is a toy sync function: it records keys and fails them as fail
// says.
type recorder struct {
	mu   sync.Mutex
	keys []string
	fail func(key string) error
}

func (r *recorder) sync(_ context.Context, key string) error {
	r.mu.Lock()
	r.keys = append(r.keys, key)
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		return fail(key)
	}
	return nil
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

func (r *recorder) count(key string) int {
	n := 0
	for _, k := range r.seen() {
		if k == key {
			n++
		}
	}
	return n
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// run starts l.Run in a goroutine and returns a function that cancels it
// and returns Run's error (failing the test when Run does not return).
func run(t *testing.T, l *controller.Loop, workers int) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx, workers) }()
	t.Cleanup(cancel)
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
			return nil
		}
	}
}

func configMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
}

func TestRunSyncsTheKeysOfInformerEvents(t *testing.T) {
	f := controllertest.New(t, configMap("default", "a"), configMap("kube-system", "b"))
	cms := f.Informers.Core().V1().ConfigMaps()
	rec := &recorder{}
	l := controller.New(controller.Config{Name: "toy", Sync: rec.sync, Logger: f.Logger,
		Synced: []cache.InformerSynced{cms.Informer().HasSynced}})
	if _, err := cms.Informer().AddEventHandler(l.Handler(controller.HandlerOptions{})); err != nil {
		t.Fatal(err)
	}
	stop := run(t, l, 2)
	f.Start()
	eventually(t, "the seeded objects' keys", func() bool {
		return rec.count("default/a") > 0 && rec.count("kube-system/b") > 0
	})
	if _, err := f.Client.CoreV1().ConfigMaps("default").Create(f.Ctx, configMap("default", "c"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the created object's key", func() bool { return rec.count("default/c") == 1 })
	before := rec.count("default/a")
	if err := f.Client.CoreV1().ConfigMaps("default").Delete(f.Ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted object's key", func() bool { return rec.count("default/a") == before+1 })
	if err := stop(); err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	for _, k := range rec.seen() {
		if !slices.Contains([]string{"default/a", "kube-system/b", "default/c"}, k) {
			t.Errorf("synced unexpected key %q", k)
		}
	}
	st := l.Stats()
	if st.Syncs != uint64(len(rec.seen())) || st.Errors != 0 || st.Adds < st.Syncs {
		t.Errorf("stats %+v after %d syncs", st, len(rec.seen()))
	}
}

func TestFailedKeyIsRetriedWithBackoffThenDropped(t *testing.T) {
	clk := clocktesting.NewFakeClock(controllertest.Epoch())
	rec := &recorder{fail: func(string) error { return errors.New("conflict") }}
	l := controller.New(controller.Config{Name: "toy", Sync: rec.sync, Clock: clk, MaxRetries: 2,
		RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, time.Minute)})
	stop := run(t, l, 1)
	l.EnqueueKey("ns/x")
	retries := func(n uint64) func() bool { return func() bool { return l.Stats().Retries == n } }
	eventually(t, "the first retry", retries(1))

	// The first retry waits 1 s, the second 2 s, on the loop's clock.
	clk.Step(999 * time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	if n := rec.count("ns/x"); n != 1 {
		t.Fatalf("synced %d times before the backoff passed", n)
	}
	clk.Step(time.Millisecond)
	eventually(t, "the second retry", retries(2))
	clk.Step(time.Second)
	time.Sleep(50 * time.Millisecond)
	if n := rec.count("ns/x"); n != 2 {
		t.Fatalf("synced %d times before the second backoff passed", n)
	}
	clk.Step(time.Second)
	eventually(t, "the key dropped", func() bool { return l.Stats().Drops == 1 })

	// Dropped: time passing brings nothing back, a new event does.
	clk.Step(time.Hour)
	time.Sleep(50 * time.Millisecond)
	if n := rec.count("ns/x"); n != 3 {
		t.Fatalf("synced %d times, want 3 (1 + MaxRetries)", n)
	}
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	l.EnqueueKey("ns/x")
	eventually(t, "the key after a new event", func() bool { return rec.count("ns/x") == 4 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st := l.Stats()
	if st.Syncs != 4 || st.Errors != 3 || st.Retries != 2 || st.Drops != 1 || st.Depth != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestZeroMaxRetriesRetriesForever(t *testing.T) {
	var calls atomic.Int32
	l := controller.New(controller.Config{Name: "toy", Sync: func(context.Context, string) error {
		if calls.Add(1) < 20 {
			return errors.New("not yet")
		}
		return nil
	}, RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Microsecond, time.Microsecond)})
	stop := run(t, l, 1)
	l.EnqueueKey("k")
	eventually(t, "20 syncs", func() bool { return l.Stats().Syncs == 20 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Drops != 0 || st.Retries != 19 {
		t.Errorf("stats %+v, want 19 retries and no drop", st)
	}
}

func TestPanicInSyncIsAnErrorAndRetried(t *testing.T) {
	var calls atomic.Int32
	l := controller.New(controller.Config{Name: "toy", Sync: func(context.Context, string) error {
		if calls.Add(1) == 1 {
			var m map[string]int
			m["boom"]++ // panics: nil map
		}
		return nil
	}, RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, time.Millisecond)})
	stop := run(t, l, 1)
	l.EnqueueKey("k")
	eventually(t, "the retry after the panic", func() bool { return calls.Load() == 2 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Errors != 1 || st.Retries != 1 {
		t.Errorf("stats %+v, want the panic counted as one error", st)
	}
}

func TestCancelStopsWorkersAndRunReturns(t *testing.T) {
	var active, started atomic.Int32
	var sawCancel atomic.Bool
	l := controller.New(controller.Config{Name: "toy", Sync: func(ctx context.Context, _ string) error {
		active.Add(1)
		defer active.Add(-1)
		started.Add(1)
		<-ctx.Done() // a long sync: it must see the cancellation
		sawCancel.Store(true)
		return ctx.Err()
	}})
	stop := run(t, l, 3)
	for i := range 5 {
		l.EnqueueKey(fmt.Sprint("k", i))
	}
	eventually(t, "three busy workers", func() bool { return active.Load() == 3 })
	if err := stop(); err != nil {
		t.Errorf("Run: %v", err)
	}
	if n := active.Load(); n != 0 {
		t.Errorf("%d syncs still running after Run returned", n)
	}
	if !sawCancel.Load() {
		t.Error("sync did not see its context end")
	}
	// The two keys still queued at shutdown were not synced with a dead
	// context, and a failure at shutdown is not retried.
	if n := started.Load(); n != 3 {
		t.Errorf("%d syncs started, want 3", n)
	}
	if st := l.Stats(); st.Retries != 0 {
		t.Errorf("retried at shutdown: %+v", st)
	}
	l.EnqueueKey("late") // ignored by the shut-down queue; must not block or panic
	if err := l.Run(context.Background(), 1); err == nil {
		t.Error("a second Run must fail")
	}
}

func TestRunFailsWhenCachesNeverSync(t *testing.T) {
	rec := &recorder{}
	l := controller.New(controller.Config{Name: "toy", Sync: rec.sync,
		Synced: []cache.InformerSynced{func() bool { return true }, func() bool { return false }}})
	l.EnqueueKey("k")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := l.Run(ctx, 1)
	if !errors.Is(err, controller.ErrNotSynced) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want ErrNotSynced and the context's cause", err)
	}
	if keys := rec.seen(); len(keys) != 0 {
		t.Errorf("synced %v before the caches synced", keys)
	}
}

func TestRunRejectsNoWorkers(t *testing.T) {
	l := controller.New(controller.Config{Name: "toy", Sync: (&recorder{}).sync})
	if err := l.Run(context.Background(), 0); err == nil {
		t.Error("Run with 0 workers must fail")
	}
	if l.Name() != "toy" {
		t.Errorf("Name = %q", l.Name())
	}
	var _ controller.Controller = l
}

func TestEnqueueAfterAndEveryFollowTheClock(t *testing.T) {
	clk := clocktesting.NewFakeClock(controllertest.Epoch())
	rec := &recorder{}
	var ticks atomic.Int32
	l := controller.New(controller.Config{Name: "toy", Sync: rec.sync, Clock: clk,
		Background: []func(context.Context){controller.Every(clk, time.Minute, func(context.Context) { ticks.Add(1) })}})
	stop := run(t, l, 1)
	eventually(t, "the first tick, at once", func() bool { return ticks.Load() == 1 })
	l.EnqueueAfter(configMap("default", "later"), 10*time.Second)
	clk.Step(9 * time.Second)
	time.Sleep(50 * time.Millisecond)
	if keys := rec.seen(); len(keys) != 0 {
		t.Fatalf("synced %v before the delay passed", keys)
	}
	clk.Step(time.Second)
	eventually(t, "the delayed key", func() bool { return rec.count("default/later") == 1 })
	clk.Step(50 * time.Second)
	eventually(t, "the second tick", func() bool { return ticks.Load() == 2 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
