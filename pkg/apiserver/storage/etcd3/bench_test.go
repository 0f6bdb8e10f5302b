package etcd3

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/internal/benchcmp"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// Each benchmark measures the store against a raw etcd baseline doing the
// same work in the same run, and reports both and their ratio
// (internal/benchcmp). Each iteration does a fixed batch, so -benchtime 1x
// (make bench) is meaningful:
//
//	BenchmarkStoreCreate: benchCreates creates by 16 concurrent writers ÷
//	                      the same number of txn puts of the encoded pod
//	BenchmarkStoreList:   benchLists lists of benchListSize pods ÷ as many
//	                      etcd ranges over the same keys

const (
	benchWriters  = 16
	benchCreates  = 2000
	benchListSize = 500
	benchLists    = 20
)

// benchPod is a small but realistic pod (about 500 bytes of JSON).
func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "bench", Name: name, UID: "6c1f8a2e-6f0a-4a4e-9a57-0c3e0f6a3f1d",
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
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.1.7"},
	}
}

// concurrently runs f(0) … f(n-1) on benchWriters goroutines and returns
// how long that took.
func concurrently(b *testing.B, n int, f func(ctx context.Context, i int) error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchWriters {
		wg.Go(func() {
			ctx := context.Background()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := f(ctx, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

func BenchmarkStoreCreate(b *testing.B) {
	client := storagetest.RunEtcd(b)
	s := newTestStore(b, client, DefaultPrefix)
	template := benchPod("p")
	data, err := kruntime.Encode(storagetest.Codec(), template)
	if err != nil {
		b.Fatal(err)
	}
	rawPuts := func(batch string) time.Duration {
		return concurrently(b, benchCreates/2, func(ctx context.Context, i int) error {
			key := fmt.Sprintf("/registry/raw/bench/p-%s-%d", batch, i)
			_, err := client.Txn(ctx).
				If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, string(data))).
				Commit()
			return err
		})
	}
	storeCreates := func(batch string) time.Duration {
		return concurrently(b, benchCreates/2, func(ctx context.Context, i int) error {
			pod := template.DeepCopy()
			pod.Name = fmt.Sprintf("p-%s-%d", batch, i)
			return s.Create(ctx, "/pods/bench/"+pod.Name, pod, &corev1.Pod{}, 0)
		})
	}
	// Baseline and store alternate (ABBA), so that etcd's growth during the
	// run weighs on both alike.
	var raw, store time.Duration
	for it := 0; b.Loop(); it++ {
		raw += rawPuts(fmt.Sprint(it, "a"))
		store += storeCreates(fmt.Sprint(it, "a"))
		store += storeCreates(fmt.Sprint(it, "b"))
		raw += rawPuts(fmt.Sprint(it, "b"))
	}
	benchcmp.Times(b, store, raw)
	b.ReportMetric(float64(benchCreates*b.N)/store.Seconds(), "creates/s")
	b.ReportMetric(float64(benchCreates*b.N)/raw.Seconds(), "etcd-txn-puts/s")
	b.ReportMetric(float64(len(data)), "bytes/pod")
}

// seedList stores benchListSize pods through a store and returns it.
func seedList(b *testing.B) (*clientv3.Client, storage.Interface) {
	client := storagetest.RunEtcd(b)
	s := newTestStore(b, client, DefaultPrefix)
	ctx := context.Background()
	for i := range benchListSize {
		pod := benchPod(fmt.Sprintf("p-%04d", i))
		if err := s.Create(ctx, "/pods/bench/"+pod.Name, pod, nil, 0); err != nil {
			b.Fatal(err)
		}
	}
	return client, s
}

func BenchmarkStoreList(b *testing.B) {
	client, s := seedList(b)
	ctx := context.Background()
	var raw, store time.Duration
	for b.Loop() {
		raw += benchcmp.Time(func() {
			for range benchLists {
				resp, err := client.Get(ctx, "/registry/pods/", clientv3.WithPrefix())
				if err != nil || len(resp.Kvs) != benchListSize {
					b.Fatalf("range: %v", err)
				}
			}
		})
		store += benchcmp.Time(func() {
			for range benchLists {
				list := &corev1.PodList{}
				if err := s.GetList(ctx, "/pods", storage.ListOptions{Recursive: true}, list); err != nil || len(list.Items) != benchListSize {
					b.Fatalf("list: %v", err)
				}
			}
		})
	}
	benchcmp.Times(b, store, raw)
	b.ReportMetric(benchListSize, "items/list")
}
