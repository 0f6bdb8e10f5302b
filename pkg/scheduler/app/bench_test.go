package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/internal/benchcmp"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/scheduler"
	"github.com/kinc-dev/kinc/pkg/scheduler/app"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

const (
	benchNodes   = 200
	benchPods    = 2000
	benchWorkers = 16
)

// parallel runs fn(i) for i in [0, n) on workers goroutines.
func parallel(n, workers int, fn func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// bindWatcher records when each pod of a namespace is first seen bound.
type bindWatcher struct {
	mu    sync.Mutex
	bound map[string]time.Time
	done  chan struct{}
	want  int
}

func watchBindings(ctx context.Context, client kubernetes.Interface, ns string, want int) *bindWatcher {
	w := &bindWatcher{bound: map[string]time.Time{}, done: make(chan struct{}), want: want}
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().Pods().Informer()
	record := func(obj any) {
		p := obj.(*v1.Pod)
		if p.Spec.NodeName == "" {
			return
		}
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, ok := w.bound[p.Name]; !ok {
			w.bound[p.Name] = now
			if len(w.bound) == w.want {
				close(w.done)
			}
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: record, UpdateFunc: func(_, n any) { record(n) }})
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	return w
}

func (w *bindWatcher) wait(timeout time.Duration) error {
	select {
	case <-w.done:
		return nil
	case <-time.After(timeout):
		w.mu.Lock()
		defer w.mu.Unlock()
		return fmt.Errorf("only %d of %d pods bound after %v", len(w.bound), w.want, timeout)
	}
}

func (w *bindWatcher) span() (first, last time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, t := range w.bound {
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return first, last
}

func createPods(b *testing.B, client kubernetes.Interface, ns, schedulerName string, n int, created map[string]time.Time, mu *sync.Mutex) {
	b.Helper()
	err := parallel(n, 8, func(i int) error {
		p := st.MakePod(ns, fmt.Sprintf("p-%d", i)).SchedulerName(schedulerName).Obj()
		p.UID = ""
		if _, err := client.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			return err
		}
		if created != nil {
			mu.Lock()
			created[p.Name] = time.Now()
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSchedulingThroughput schedules 2,000 pods over 200 nodes (Node
// objects only) and compares the rate with one client POSTing bindings to
// the same apiserver, with as many requests in flight as the scheduler
// allows itself (scheduler.DefaultMaxConcurrentBinds). The machine is
// shared and noisy, so baseline and scheduler alternate in 4 rounds of 500
// pods, each pending before its measurement starts; both rates are
// measured the same way, first to last binding seen by a watch. It reports:
//   - the time of each (ns/op, baseline-ns/op) and their ratio
//     (internal/benchcmp: scheduler ÷ baseline), bind-baseline-pods/s and
//     sched-pods/s;
//   - p50/p99-create-to-bind-ms: 2,000 more pods created as fast as 8
//     clients can while the (ready) scheduler runs, creation to binding seen.
//
// KINC_BENCH_DEBUG=1 logs per-round rates and latency per 100 pods;
// KINC_BENCH_BASELINE_WATCH=1 runs an all-pods informer during the baseline
// too, to see how much of the gap is the apiserver serving the scheduler's
// watch.
func BenchmarkSchedulingThroughput(b *testing.B) {
	const rounds = 4
	per := benchPods / rounds
	inst := apiservertest.Start(b, apiservertest.Options{})
	client, err := kubernetes.NewForConfig(inst.Config)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mkns := func(ns string) {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	if err := parallel(benchNodes, 8, func(i int) error {
		n := st.MakeNode(fmt.Sprintf("node-%03d", i)).Obj()
		n.UID = ""
		_, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	o := app.NewOptions()
	o.Kubeconfig, o.LeaderElect, o.SecurePort = inst.Kubeconfig, false, 0
	o.KubeAPIQPS, o.KubeAPIBurst = 5000, 5000
	startScheduler := func() (stop func()) {
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- app.Run(sctx, o, slog.New(slog.DiscardHandler)) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	}

	if os.Getenv("KINC_BENCH_BASELINE_WATCH") != "" {
		f := informers.NewSharedInformerFactory(client, 0)
		f.Core().V1().Pods().Informer()
		f.Start(ctx.Done())
	}
	b.ResetTimer()
	var baseTime, schedTime time.Duration
	for r := 0; r < rounds; r++ {
		base, sched := fmt.Sprintf("base-%d", r), fmt.Sprintf("sched-%d", r)
		mkns(base)
		mkns(sched)
		createPods(b, client, base, "nobody", per, nil, nil)
		createPods(b, client, sched, "default-scheduler", per, nil, nil)

		bw := watchBindings(ctx, client, base, per)
		if err := parallel(per, scheduler.DefaultMaxConcurrentBinds, func(i int) error {
			return client.CoreV1().Pods(base).Bind(ctx, &v1.Binding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i)},
				Target: v1.ObjectReference{Kind: "Node", Name: fmt.Sprintf("node-%03d", i%benchNodes)}}, metav1.CreateOptions{})
		}); err != nil {
			b.Fatal(err)
		}
		if err := bw.wait(60 * time.Second); err != nil {
			b.Fatal(err)
		}
		first, last := bw.span()
		baseTime += last.Sub(first)

		sw := watchBindings(ctx, client, sched, per)
		stop := startScheduler()
		if err := sw.wait(60 * time.Second); err != nil {
			b.Fatal(err)
		}
		stop()
		bfirst, blast := first, last
		first, last = sw.span()
		schedTime += last.Sub(first)
		if os.Getenv("KINC_BENCH_DEBUG") != "" {
			b.Logf("round %d: baseline %.0f/s, scheduler %.0f/s", r, float64(per-1)/blast.Sub(bfirst).Seconds(), float64(per-1)/last.Sub(first).Seconds())
		}
	}
	bindRate := float64(rounds*(per-1)) / baseTime.Seconds()
	schedRate := float64(rounds*(per-1)) / schedTime.Seconds()

	// Latency: pods created while the scheduler runs (once it is ready).
	mkns("latency")
	o.SecurePort, o.BindAddress = freePort(b), "127.0.0.1"
	stop := startScheduler()
	ready := fmt.Sprintf("https://127.0.0.1:%d/readyz", o.SecurePort)
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		code, _ := get(b, ready)
		return code == 200, nil
	}); err != nil {
		b.Fatal("scheduler not ready")
	}
	lw := watchBindings(ctx, client, "latency", benchPods)
	created := map[string]time.Time{}
	var mu sync.Mutex
	createStart := time.Now()
	createPods(b, client, "latency", "default-scheduler", benchPods, created, &mu)
	createRate := float64(benchPods) / time.Since(createStart).Seconds()
	if err := lw.wait(60 * time.Second); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	stop()
	var lat []time.Duration
	lw.mu.Lock()
	for name, t := range lw.bound {
		lat = append(lat, max(t.Sub(created[name]), 0))
	}
	lw.mu.Unlock()
	if os.Getenv("KINC_BENCH_DEBUG") != "" {
		type pc struct{ c, b time.Time }
		var all []pc
		for name, c := range created {
			all = append(all, pc{c, lw.bound[name]})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].c.Before(all[j].c) })
		for i := 0; i < len(all); i += 100 {
			var worst time.Duration
			for _, x := range all[i:min(i+100, len(all))] {
				worst = max(worst, x.b.Sub(x.c))
			}
			b.Logf("pods %4d..: created at +%v, worst latency %v", i, all[i].c.Sub(createStart).Round(time.Millisecond), worst.Round(time.Millisecond))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })

	// ns/op and baseline-ns/op: the time to bind the same rounds*(per-1)
	// pods, scheduled or by the plain binding client.
	benchcmp.Times(b, schedTime, baseTime)
	b.ReportMetric(bindRate, "bind-baseline-pods/s")
	b.ReportMetric(schedRate, "sched-pods/s")
	b.ReportMetric(createRate, "create-pods/s")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-create-to-bind-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-create-to-bind-ms")
}
