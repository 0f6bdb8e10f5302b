package server_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/internal/benchcmp"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// Benchmarks of the whole apiserver (the real binary over an in-process
// etcd), each next to a raw-etcd baseline measured in the same run. Each
// iteration does a fixed batch of work, so `-benchtime 1x` (hack/bench.sh's
// default) gives meaningful numbers. Each reports its measure, its
// baseline's and the ratio (internal/benchcmp; lower is better):
//
//	BenchmarkAPIServerPodCreate   time of 2,000 pod creates by 16 clients ÷ as many etcd txn puts of the stored bytes
//	BenchmarkAPIServerPodList     LIST of 10,000 pods ÷ an etcd range of the same keys
//	BenchmarkAPIServerWatchFanout one configmap change reaching 100 watches ÷ 100 raw etcd watches
//	BenchmarkAPIServerMemory      the apiserver's RSS growth holding 10,000 pods ÷ their size in etcd

const (
	benchClients   = 16
	benchBatch     = 2000  // creates per iteration
	benchListPods  = 10000 // pods for LIST and RSS
	benchWatchers  = 100
	benchChanges   = 20 // changes per fan-out iteration
	benchNamespace = "bench"
)

// benchPod is a pod of realistic size (about 1 KiB of JSON as sent).
func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: benchNamespace, Name: name,
			Labels:      map[string]string{"app": "web", "tier": "frontend"},
			Annotations: map[string]string{"kinc.dev/bench": "true"},
		},
		Spec: corev1.PodSpec{
			NodeName: "kinc-worker",
			Containers: []corev1.Container{{
				Name: "web", Image: "registry.example/web:1.2.3",
				Command: []string{"/bin/web", "--port=8080"},
				Ports:   []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
				}},
			}},
		},
	}
}

// startBench starts an instance with a "bench" namespace and returns it with
// an unthrottled clientset.
func startBench(b *testing.B) (*apiservertest.Instance, *kubernetes.Clientset) {
	b.Helper()
	inst := apiservertest.Start(b, apiservertest.Options{})
	cs := clientset(b, inst.Config)
	createNamespace(b, cs, benchNamespace)
	return inst, cs
}

// parallel runs fn(i) for i in [from, from+n) on workers goroutines and
// returns how long it took.
func parallel(b *testing.B, workers, from, n int, fn func(ctx context.Context, i int) error) time.Duration {
	b.Helper()
	ctx := context.Background()
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var firstErr atomic.Value
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= from+n || firstErr.Load() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if err := firstErr.Load(); err != nil {
		b.Fatal(err)
	}
	return d
}

// createPods creates pods p-<from>…p-<from+n-1> through the API with
// benchClients concurrent clients.
func createPods(b *testing.B, cs kubernetes.Interface, from, n int) time.Duration {
	b.Helper()
	return parallel(b, benchClients, from, n, func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Pods(benchNamespace).Create(ctx, benchPod(fmt.Sprintf("p-%06d", i)), metav1.CreateOptions{})
		return err
	})
}

// storedPod returns what the apiserver stored in etcd for pod name.
func storedPod(b *testing.B, inst *apiservertest.Instance, name string) []byte {
	b.Helper()
	resp, err := inst.Etcd.Get(context.Background(), "/registry/pods/"+benchNamespace+"/"+name)
	if err != nil || len(resp.Kvs) != 1 {
		b.Fatalf("reading pod %s from etcd: %v (%d keys)", name, err, len(resp.Kvs))
	}
	return resp.Kvs[0].Value
}

// BenchmarkAPIServerPodCreate: pods created per second through the apiserver
// by 16 concurrent client-go clients, and etcd transactions per second
// (If create_revision==0 Then Put, as the apiserver's create does) of the
// bytes the apiserver stored, by 16 goroutines on the same etcd.
func BenchmarkAPIServerPodCreate(b *testing.B) {
	inst, cs := startBench(b)
	createPods(b, cs, 0, 100) // warm up connections and caches
	value := string(storedPod(b, inst, "p-000000"))
	rawPuts := func(from, n int) time.Duration {
		return parallel(b, benchClients, from, n, func(ctx context.Context, i int) error {
			// Outside /registry/pods: the apiserver's watch cache ignores it.
			key := fmt.Sprintf("/bench-raw/pods/%s/p-%06d", benchNamespace, i)
			_, err := inst.Etcd.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, value)).Commit()
			return err
		})
	}
	rawPuts(0, 100)
	apiN, etcdN := 100, 100
	var apiTime, etcdTime time.Duration
	for b.Loop() {
		// Alternate in rounds, so that both see the same machine: these
		// 2-core machines are noisy.
		const rounds = 4
		for range rounds {
			etcdTime += rawPuts(etcdN, benchBatch/rounds)
			etcdN += benchBatch / rounds
			apiTime += createPods(b, cs, apiN, benchBatch/rounds)
			apiN += benchBatch / rounds
		}
	}
	apiN, etcdN = apiN-100, etcdN-100
	creates := float64(apiN) / apiTime.Seconds()
	puts := float64(etcdN) / etcdTime.Seconds()
	benchcmp.Times(b, apiTime, etcdTime)
	b.ReportMetric(creates, "pod-creates/s")
	b.ReportMetric(puts, "etcd-txn-puts/s")
	b.ReportMetric(float64(len(value)), "stored-bytes/pod")
}

// BenchmarkAPIServerPodList: a LIST of 10,000 pods in one namespace through
// the apiserver (no limit, JSON body read in full by a client-go REST
// client, not decoded), and a raw etcd range of the same keys.
func BenchmarkAPIServerPodList(b *testing.B) {
	inst, cs := startBench(b)
	seed := createPods(b, cs, 0, benchListPods)
	b.Logf("seeded %d pods through the apiserver in %v", benchListPods, seed.Round(time.Millisecond))
	ctx := context.Background()
	rest := cs.CoreV1().RESTClient()
	list := func() int {
		body, err := rest.Get().Namespace(benchNamespace).Resource("pods").DoRaw(ctx)
		if err != nil {
			b.Fatalf("LIST: %v", err)
		}
		return len(body)
	}
	rng := func() int {
		resp, err := inst.Etcd.Get(ctx, "/registry/pods/"+benchNamespace+"/", clientv3.WithPrefix())
		if err != nil || len(resp.Kvs) != benchListPods {
			b.Fatalf("etcd range: %v (%d keys)", err, len(resp.Kvs))
		}
		n := 0
		for _, kv := range resp.Kvs {
			n += len(kv.Value)
		}
		return n
	}
	typed, err := cs.CoreV1().Pods(benchNamespace).List(ctx, metav1.ListOptions{})
	if err != nil || len(typed.Items) != benchListPods {
		b.Fatalf("typed LIST: %v (%d items)", err, len(typed.Items))
	}
	bodyBytes := list() // warm up both paths
	rng()
	const reps = 3
	var apiTime, etcdTime time.Duration
	var n int
	for b.Loop() {
		for range reps {
			start := time.Now()
			rng()
			etcdTime += time.Since(start)
			start = time.Now()
			list()
			apiTime += time.Since(start)
			n++
		}
	}
	api := apiTime.Seconds() * 1000 / float64(n)
	raw := etcdTime.Seconds() * 1000 / float64(n)
	benchcmp.Times(b, apiTime, etcdTime)
	b.ReportMetric(api, "list-10k-pods-ms")
	b.ReportMetric(raw, "etcd-range-10k-ms")
	b.ReportMetric(float64(bodyBytes)/(1<<20), "list-body-MiB")
}

// BenchmarkAPIServerWatchFanout: the time from sending an update of one
// configmap until each of 100 concurrent watches (namespace-wide, through
// the apiserver) receives it; p50 over every delivery, and the median and
// worst time until all 100 have it. The baseline is the same with 100 raw
// etcd watches on the configmap's key.
func BenchmarkAPIServerWatchFanout(b *testing.B) {
	inst, cs := startBench(b)
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps(benchNamespace)
	for i := range 10 { // bystanders in the watched namespace
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("other-%d", i)}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	target, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "target"}, Data: map[string]string{"n": "0"}}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	change := 0
	update := func() string { // returns the new resourceVersion
		change++
		target.Data["n"] = strconv.Itoa(change)
		out, err := cms.Update(ctx, target, metav1.UpdateOptions{})
		if err != nil {
			b.Fatalf("update: %v", err)
		}
		target = out
		return out.ResourceVersion
	}

	var api, raw fanout
	for b.Loop() {
		// Raw etcd watches of the key.
		wctx, cancel := context.WithCancel(ctx)
		seen := make(chan watcherSaw, benchWatchers*benchChanges)
		for range benchWatchers {
			wc := inst.Etcd.Watch(wctx, "/registry/configmaps/"+benchNamespace+"/target")
			go func() {
				for resp := range wc {
					for _, ev := range resp.Events {
						seen <- watcherSaw{rv: strconv.FormatInt(ev.Kv.ModRevision, 10), at: time.Now()}
					}
				}
			}()
		}
		time.Sleep(200 * time.Millisecond) // let every watch register
		raw.measure(b, update, seen)
		cancel()

		// Watches through the apiserver, from the current resourceVersion.
		seen = make(chan watcherSaw, benchWatchers*benchChanges)
		var ws []watch.Interface
		for range benchWatchers {
			w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: target.ResourceVersion})
			if err != nil {
				b.Fatalf("watch: %v", err)
			}
			ws = append(ws, w)
			go func() {
				for ev := range w.ResultChan() {
					if cm, ok := ev.Object.(*corev1.ConfigMap); ok && ev.Type == watch.Modified && cm.Name == "target" {
						seen <- watcherSaw{rv: cm.ResourceVersion, at: time.Now()}
					}
				}
			}()
		}
		time.Sleep(200 * time.Millisecond)
		api.measure(b, update, seen)
		for _, w := range ws {
			w.Stop()
		}
	}
	// The ratio: the median time until all 100 watchers have a change,
	// through the apiserver ÷ through raw etcd watches.
	benchcmp.Values(b, "all-100-watchers-p50-ms", api.allP50(), raw.allP50())
	b.ReportMetric(api.p50(), "watch-p50-ms")
	b.ReportMetric(api.allMax(), "all-100-watchers-max-ms")
	b.ReportMetric(raw.p50(), "etcd-watch-p50-ms")
}

type watcherSaw struct {
	rv string
	at time.Time
}

// fanout collects delivery latencies: every delivery, and per change the
// time until the last watcher got it.
type fanout struct {
	deliveries, all []time.Duration
}

// measure makes benchChanges changes one after the other, each once every
// watcher has the previous one.
func (f *fanout) measure(b *testing.B, update func() string, seen <-chan watcherSaw) {
	b.Helper()
	for range benchChanges {
		start := time.Now()
		rv := update()
		got := 0
		timeout := time.After(30 * time.Second)
		for got < benchWatchers {
			select {
			case s := <-seen:
				if s.rv != rv {
					b.Fatalf("a watcher saw resourceVersion %s while waiting for %s", s.rv, rv)
				}
				got++
				f.deliveries = append(f.deliveries, s.at.Sub(start))
				if got == benchWatchers {
					f.all = append(f.all, s.at.Sub(start))
				}
			case <-timeout:
				b.Fatalf("only %d of %d watchers saw change %s within 30s", got, benchWatchers, rv)
			}
		}
	}
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func (f *fanout) p50() float64    { return ms(median(f.deliveries)) }
func (f *fanout) allP50() float64 { return ms(median(f.all)) }
func (f *fanout) allMax() float64 { return ms(slices.Max(f.all)) }

// BenchmarkAPIServerMemory: the apiserver process's resident memory (VmRSS)
// when empty, and holding 10,000 pods (created through the API, then listed
// once, as an informer would); its growth against the pods' size in etcd.
func BenchmarkAPIServerMemory(b *testing.B) {
	inst, cs := startBench(b)
	ctx := context.Background()
	time.Sleep(2 * time.Second)
	empty := rss(b, inst.Pid())
	var full int64
	pods := 0
	for b.Loop() {
		// One iteration normally (it takes longer than -benchtime); more
		// add 10,000 pods each.
		createPods(b, cs, pods, benchListPods)
		pods += benchListPods
		if _, err := cs.CoreV1().RESTClient().Get().Resource("pods").DoRaw(ctx); err != nil {
			b.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		full = rss(b, inst.Pid())
	}
	// The baseline: the pods' own size, as stored in etcd. The ratio is
	// how much memory the apiserver grew per byte of pods it holds.
	resp, err := inst.Etcd.Get(ctx, "/registry/pods/", clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != pods {
		b.Fatalf("etcd range: %v (%d keys, want %d)", err, len(resp.Kvs), pods)
	}
	var stored int64
	for _, kv := range resp.Kvs {
		stored += int64(len(kv.Value))
	}
	benchcmp.Values(b, "rss-growth-MiB", float64(full-empty)/(1<<20), float64(stored)/(1<<20))
	b.ReportMetric(float64(empty)/(1<<20), "rss-empty-MiB")
	b.ReportMetric(float64(full)/(1<<20), "rss-10k-pods-MiB")
	b.ReportMetric(float64(full-empty)/float64(pods)/1024, "rss-KiB/pod")
}

// rss reads VmRSS of process pid, in bytes.
func rss(b *testing.B, pid int) int64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("parsing VmRSS %q: %v", rest, err)
			}
			return kb * 1024
		}
	}
	b.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
