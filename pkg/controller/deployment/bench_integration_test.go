package deployment_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/internal/benchcmp"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/scheduler/app"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

const (
	benchReplicas = 1000
	benchNodes    = 50
	benchClients  = 16 // requests in flight of the baseline's one client
	benchRounds   = 2
)

// podWatcher records when want pods of a namespace exist and when want
// are bound.
type podWatcher struct {
	mu             sync.Mutex
	created, bound map[string]bool
	want           int
	allCreated     time.Time
	done           chan struct{} // closed once all are bound
}

func watchPods(ctx context.Context, b *testing.B, client kubernetes.Interface, ns string, want int) *podWatcher {
	w := &podWatcher{created: map[string]bool{}, bound: map[string]bool{}, want: want, done: make(chan struct{})}
	f := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
	record := func(obj any) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.created[p.Name] {
			w.created[p.Name] = true
			if len(w.created) == w.want {
				w.allCreated = now
			}
		}
		if p.Spec.NodeName != "" && !w.bound[p.Name] {
			w.bound[p.Name] = true
			if len(w.bound) == w.want {
				close(w.done)
			}
		}
	}
	_, _ = f.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: record, UpdateFunc: func(_, n any) { record(n) }})
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	b.Cleanup(f.Shutdown)
	return w
}

// wait returns when all pods existed and when all were bound; without a
// scheduler (bind false) only when all existed.
func (w *podWatcher) wait(b *testing.B, timeout time.Duration, bind bool) (created, bound time.Time) {
	b.Helper()
	deadline := time.After(timeout)
	for !bind {
		w.mu.Lock()
		n, at := len(w.created), w.allCreated
		w.mu.Unlock()
		if n == w.want {
			return at, at
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			b.Fatalf("%d pods created after %v, want %d", n, timeout, w.want)
		}
	}
	select {
	case <-w.done:
		bound = time.Now()
	case <-deadline:
		w.mu.Lock()
		defer w.mu.Unlock()
		b.Fatalf("%d pods created, %d bound after %v, want %d", len(w.created), len(w.bound), timeout, w.want)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.allCreated, bound
}

func benchTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}}}}},
	}
}

// BenchmarkDeployment1000Pods: a Deployment of 1,000 replicas on the real
// apiserver (etcd in-process) with the real scheduler over 50 Node objects
// (no kubelet), from its creation until all 1,000 pods are bound, ÷ the
// same 1,000 pods (same template) created directly through the API by one
// client with 16 requests in flight, until all are bound by the same
// scheduler (created-ratio: the same until all pods exist). Both run in each of 2 alternating rounds (the machine is
// noisy); internal/benchcmp reports the ratio (lower is better; the aim is
// ≤ 1.5) and both rates. The controllers' client is the instance's
// (1,000 qps): kube-controller-manager's default --kube-api-qps 20 would
// bound the Deployment at 20 pods/s, as upstream's.
// KINC_BENCH_NO_SCHEDULER=1 leaves the scheduler out: both sides then end
// when all pods exist.
func BenchmarkDeployment1000Pods(b *testing.B) {
	inst := apiservertest.Start(b, apiservertest.Options{})
	client, err := kubernetes.NewForConfig(inst.Config)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range benchNodes {
		n := st.MakeNode(fmt.Sprintf("node-%03d", i)).Obj()
		n.UID = ""
		if _, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	bind := os.Getenv("KINC_BENCH_NO_SCHEDULER") == ""
	if bind {
		o := app.NewOptions()
		o.Kubeconfig, o.LeaderElect, o.SecurePort = inst.Kubeconfig, false, 0
		o.KubeAPIQPS, o.KubeAPIBurst = 5000, 5000
		schedDone := make(chan error, 1)
		schedCtx, stopSched := context.WithCancel(ctx)
		go func() { schedDone <- app.Run(schedCtx, o, slog.New(slog.DiscardHandler)) }()
		defer func() {
			stopSched()
			if err := <-schedDone; err != nil {
				b.Error(err)
			}
		}()
	}
	startControllers(b, client, slog.New(slog.DiscardHandler))

	mkns := func(name string) {
		if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	// Warm up: scheduler and controllers are up, connections open.
	mkns("warmup")
	warm := watchPods(ctx, b, client, "warmup", 10)
	deployAndWait(ctx, b, client, "warmup", 10)
	warm.wait(b, 60*time.Second, bind)

	var deployTime, baseTime, deployCreate, baseCreate time.Duration
	for b.Loop() {
		for r := range benchRounds {
			base, deploy := fmt.Sprintf("base-%d", r), fmt.Sprintf("deploy-%d", r)
			mkns(base)
			mkns(deploy)

			w := watchPods(ctx, b, client, base, benchReplicas)
			start := time.Now()
			createPods(ctx, b, client, base, benchReplicas)
			created, bound := w.wait(b, 120*time.Second, bind)
			baseCreate += created.Sub(start)
			baseTime += bound.Sub(start)

			w = watchPods(ctx, b, client, deploy, benchReplicas)
			start = time.Now()
			deployAndWait(ctx, b, client, deploy, benchReplicas)
			created, bound = w.wait(b, 120*time.Second, bind)
			deployCreate += created.Sub(start)
			deployTime += bound.Sub(start)
		}
	}
	pods := float64(b.N * benchRounds * benchReplicas)
	benchcmp.Times(b, deployTime, baseTime)
	b.ReportMetric(pods/deployTime.Seconds(), "deployment-pods/s")
	b.ReportMetric(pods/baseTime.Seconds(), "baseline-pods/s")
	// Creation alone (all pods exist, bound or not), for the controllers'
	// share of the time.
	b.ReportMetric(pods/deployCreate.Seconds(), "deployment-created-pods/s")
	b.ReportMetric(pods/baseCreate.Seconds(), "baseline-created-pods/s")
	b.ReportMetric(float64(deployCreate)/float64(baseCreate), "created-ratio")
}

// deployAndWait creates the Deployment "bench" of n replicas in ns.
func deployAndWait(ctx context.Context, b *testing.B, client kubernetes.Interface, ns string, n int32) {
	b.Helper()
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bench"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To(n), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "bench"}},
			Template: benchTemplate()},
	}
	if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
}

// createPods creates n pods from the bench template in ns with
// benchClients requests in flight on one client.
func createPods(ctx context.Context, b *testing.B, client kubernetes.Interface, ns string, n int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	tpl := benchTemplate()
	for range benchClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || firstErr.Load() != nil {
					return
				}
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("bench-%04d", i), Labels: tpl.Labels},
					Spec: *tpl.Spec.DeepCopy()}
				if _, err := client.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		b.Fatal(err)
	}
}
