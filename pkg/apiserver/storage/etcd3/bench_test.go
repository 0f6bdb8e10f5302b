package etcd3

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// Benchmarks come in pairs, a raw etcd baseline and the store doing the same
// work through the codec, so that `make bench` can report store/raw ratios
// measured in the same run:
//
//	BenchmarkRawEtcdTxnPut / BenchmarkStoreCreate: 16 concurrent writers
//	BenchmarkRawRange      / BenchmarkStoreList:   a list of benchListSize pods

const (
	benchWriters  = 16
	benchListSize = 500
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

// parallel16 makes RunParallel use benchWriters goroutines.
func parallel16(b *testing.B) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchWriters + procs - 1) / procs)
}

func BenchmarkRawEtcdTxnPut(b *testing.B) {
	client := storagetest.RunEtcd(b)
	data, err := kruntime.Encode(storagetest.Codec(), benchPod("p"))
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	parallel16(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			key := fmt.Sprintf("/registry/pods/bench/p-%d", n.Add(1))
			_, err := client.Txn(ctx).
				If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
				Then(clientv3.OpPut(key, string(data))).
				Commit()
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkStoreCreate(b *testing.B) {
	client := storagetest.RunEtcd(b)
	s := newTestStore(b, client, DefaultPrefix)
	template := benchPod("p")
	data, err := kruntime.Encode(storagetest.Codec(), template)
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	parallel16(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		out := &corev1.Pod{}
		for pb.Next() {
			pod := template.DeepCopy()
			pod.Name = fmt.Sprintf("p-%d", n.Add(1))
			if err := s.Create(ctx, "/pods/bench/"+pod.Name, pod, out, 0); err != nil {
				b.Error(err)
				return
			}
		}
	})
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

func BenchmarkRawRange(b *testing.B) {
	client, _ := seedList(b)
	ctx := context.Background()
	for b.Loop() {
		resp, err := client.Get(ctx, "/registry/pods/", clientv3.WithPrefix())
		if err != nil || len(resp.Kvs) != benchListSize {
			b.Fatalf("range: %v", err)
		}
	}
	b.ReportMetric(benchListSize, "items/op")
}

func BenchmarkStoreList(b *testing.B) {
	_, s := seedList(b)
	ctx := context.Background()
	for b.Loop() {
		list := &corev1.PodList{}
		if err := s.GetList(ctx, "/pods", storage.ListOptions{Recursive: true}, list); err != nil || len(list.Items) != benchListSize {
			b.Fatalf("list: %v", err)
		}
	}
	b.ReportMetric(benchListSize, "items/op")
}
