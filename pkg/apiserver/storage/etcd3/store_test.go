package etcd3

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// newFactory starts one etcd and returns a Factory of stores that each live
// under their own etcd prefix.
func newFactory(t *testing.T) (storagetest.Factory, *clientv3.Client) {
	client := storagetest.RunEtcd(t)
	n := 0
	return func(t *testing.T) storagetest.Fixture {
		n++
		return storagetest.Fixture{
			Store: newTestStore(t, client, fmt.Sprintf("/registry-%d", n)),
			Compact: func(ctx context.Context, rev int64) error {
				_, err := client.Compact(ctx, rev)
				return err
			},
		}
	}, client
}

func newTestStore(t testing.TB, client *clientv3.Client, prefix string) storage.Interface {
	s, err := New(Config{Client: client, Codec: storagetest.Codec(), NewFunc: storagetest.NewPod, Prefix: prefix})
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	return s
}

func TestIntegrationStore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	factory, _ := newFactory(t)
	t.Run("Create", func(t *testing.T) { storagetest.RunTestCreate(t, factory) })
	t.Run("Get", func(t *testing.T) { storagetest.RunTestGet(t, factory) })
	t.Run("List", func(t *testing.T) { storagetest.RunTestList(t, factory) })
	t.Run("GuaranteedUpdate", func(t *testing.T) { storagetest.RunTestGuaranteedUpdate(t, factory) })
	t.Run("Delete", func(t *testing.T) { storagetest.RunTestDelete(t, factory) })
	t.Run("Watch", func(t *testing.T) { storagetest.RunTestWatch(t, factory) })
	t.Run("WatchWithoutBookmarks", func(t *testing.T) {
		storagetest.RunTestWatchWithoutBookmarks(t, factory, 3*storagetest.ProgressNotifyInterval)
	})
}

// TestIntegrationLayout checks what lands in etcd: the key under the prefix, and
// JSON with apiVersion and kind but without resourceVersion.
func TestIntegrationLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx := context.Background()
	client := storagetest.RunEtcd(t)
	s := newTestStore(t, client, "")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "a"}}
	out := &corev1.Pod{}
	if err := s.Create(ctx, "/pods/ns/a", pod, out, 0); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(ctx, "/registry/pods/ns/a")
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("raw get: %v, %d keys", err, len(resp.Kvs))
	}
	var raw struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &raw); err != nil {
		t.Fatalf("stored value is not JSON: %v", err)
	}
	if raw.APIVersion != "v1" || raw.Kind != "Pod" || raw.Metadata.ResourceVersion != "" || raw.Metadata.Name != "a" {
		t.Errorf("stored %s", resp.Kvs[0].Value)
	}
	if out.ResourceVersion != fmt.Sprint(resp.Kvs[0].ModRevision) {
		t.Errorf("resourceVersion %s, want ModRevision %d", out.ResourceVersion, resp.Kvs[0].ModRevision)
	}
}

// TestIntegrationTTL checks that a key created with a TTL is bound to a lease that
// lasts at least the TTL, shared by close creates, and kept by updates.
func TestIntegrationTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx := context.Background()
	client := storagetest.RunEtcd(t)
	s := newTestStore(t, client, "")
	for _, name := range []string{"a", "b"} {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}
		if err := s.Create(ctx, "/pods/ns/"+name, pod, nil, 30); err != nil {
			t.Fatal(err)
		}
	}
	err := s.GuaranteedUpdate(ctx, "/pods/ns/a", &corev1.Pod{}, false, nil, func(obj runtime.Object) (runtime.Object, error) {
		obj.(*corev1.Pod).Labels = map[string]string{"x": "y"}
		return obj, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(ctx, "/registry/pods/ns/", clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != 2 {
		t.Fatalf("raw get: %v", err)
	}
	lease := clientv3.LeaseID(resp.Kvs[0].Lease)
	if lease == 0 || resp.Kvs[1].Lease != resp.Kvs[0].Lease {
		t.Fatalf("leases %d and %d, want one shared lease", resp.Kvs[0].Lease, resp.Kvs[1].Lease)
	}
	ttl, err := client.TimeToLive(ctx, lease)
	if err != nil {
		t.Fatal(err)
	}
	if ttl.TTL < 30 || time.Duration(ttl.TTL)*time.Second > 30*time.Second+leaseReuseWindow {
		t.Errorf("lease TTL %ds, want between 30s and 30s+%v", ttl.TTL, leaseReuseWindow)
	}
}
