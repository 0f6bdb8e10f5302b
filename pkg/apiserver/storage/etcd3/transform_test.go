package etcd3

import (
	"bytes"
	"context"
	"crypto/aes"
	"errors"
	"fmt"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/value"
)

// gcmKey returns the aesgcm provider of one key named name, with identity
// after it when withIdentity (reads plaintext, stale).
func gcmKey(t testing.TB, name, material string, withIdentity bool) value.Transformer {
	t.Helper()
	block, err := aes.NewCipher([]byte(strings.Repeat(material, 32)[:32]))
	if err != nil {
		t.Fatal(err)
	}
	g, err := value.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	ts := []value.PrefixTransformer{{Prefix: []byte("k8s:enc:aesgcm:v1:" + name + ":"), Transformer: g}}
	if withIdentity {
		ts = append(ts, value.PrefixTransformer{Transformer: value.NewEncryptCheck()})
	}
	return value.NewPrefixTransformers(errors.New("no matching prefix found"), ts...)
}

func newEncryptedStore(t testing.TB, client *clientv3.Client, prefix string, tr value.Transformer) storage.Interface {
	s, err := New(Config{Client: client, Codec: storagetest.Codec(), NewFunc: storagetest.NewPod, Prefix: prefix,
		Transformer: tr})
	if err != nil {
		t.Fatalf("new store: %v", err)
	}
	return s
}

// TestIntegrationStoreEncrypted runs the storage suite over values encrypted
// at rest: every path (get, list, watch with previous values, updates,
// deletes) goes through the transformer.
func TestIntegrationStoreEncrypted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	client := storagetest.RunEtcd(t)
	tr := gcmKey(t, "key1", "a", false)
	n := 0
	factory := func(t *testing.T) storagetest.Fixture {
		n++
		return storagetest.Fixture{
			Store: newEncryptedStore(t, client, fmt.Sprintf("/registry-%d", n), tr),
			Compact: func(ctx context.Context, rev int64) error {
				_, err := client.Compact(ctx, rev)
				return err
			},
		}
	}
	t.Run("Create", func(t *testing.T) { storagetest.RunTestCreate(t, factory) })
	t.Run("Get", func(t *testing.T) { storagetest.RunTestGet(t, factory) })
	t.Run("List", func(t *testing.T) { storagetest.RunTestList(t, factory) })
	t.Run("GuaranteedUpdate", func(t *testing.T) { storagetest.RunTestGuaranteedUpdate(t, factory) })
	t.Run("Delete", func(t *testing.T) { storagetest.RunTestDelete(t, factory) })
	t.Run("Watch", func(t *testing.T) { storagetest.RunTestWatch(t, factory) })
}

// TestIntegrationEncryptionRotation checks the stored layout, that plaintext
// written before encryption still reads and is encrypted by its next update
// even when nothing changed, and that data of a lost key is an internal
// error naming the key.
func TestIntegrationEncryptionRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx := context.Background()
	client := storagetest.RunEtcd(t)
	plain := newTestStore(t, client, "")
	for _, name := range []string{"old", "other"} {
		if err := plain.Create(ctx, "/pods/ns/"+name, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}}, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	enc := newEncryptedStore(t, client, "", gcmKey(t, "key1", "a", true))
	if err := enc.Create(ctx, "/pods/ns/new", &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "new"}}, nil, 0); err != nil {
		t.Fatal(err)
	}
	raw := func(name string) []byte {
		resp, err := client.Get(ctx, "/registry/pods/ns/"+name)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("raw get %s: %v", name, err)
		}
		return resp.Kvs[0].Value
	}
	if v := raw("new"); !bytes.HasPrefix(v, []byte("k8s:enc:aesgcm:v1:key1:")) || bytes.Contains(v, []byte("new")) {
		t.Fatalf("stored %q, want it encrypted with key1", v)
	}
	if v := raw("old"); bytes.HasPrefix(v, []byte(value.EncryptedPrefix)) || !bytes.Contains(v, []byte("old")) {
		t.Fatalf("stored %q, want plaintext", v)
	}
	list := &corev1.PodList{}
	if err := enc.GetList(ctx, "/pods/ns", storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{}}, list); err != nil || len(list.Items) != 3 {
		t.Fatalf("list: %v, %d items", err, len(list.Items))
	}
	// An update that changes nothing still rewrites stale data, encrypted.
	out := &corev1.Pod{}
	if err := enc.GuaranteedUpdate(ctx, "/pods/ns/old", out, false, nil, func(obj runtime.Object) (runtime.Object, error) {
		return obj, nil
	}); err != nil {
		t.Fatal(err)
	}
	if v := raw("old"); !bytes.HasPrefix(v, []byte("k8s:enc:aesgcm:v1:key1:")) {
		t.Fatalf("after a no-op update stored %q, want it encrypted", v)
	}
	// Without key1, its data does not read: an internal error naming the key.
	lost := newEncryptedStore(t, client, "", gcmKey(t, "key2", "b", true))
	err := lost.Get(ctx, "/pods/ns/new", storage.GetOptions{}, &corev1.Pod{})
	var se *storage.StorageError
	if !errors.As(err, &se) || se.Code != storage.ErrCodeInvalidObj || !strings.Contains(err.Error(), `"/registry/pods/ns/new"`) {
		t.Fatalf("get with the key lost: %v, want an invalid object error naming the key", err)
	}
	if err := lost.Get(ctx, "/pods/ns/other", storage.GetOptions{}, &corev1.Pod{}); err != nil {
		t.Fatalf("plaintext with identity second: %v", err)
	}
	if err := lost.GetList(ctx, "/pods/ns", storage.ListOptions{Recursive: true, Predicate: storage.SelectionPredicate{}}, &corev1.PodList{}); err == nil {
		t.Fatal("list over undecryptable data succeeded")
	}
}
