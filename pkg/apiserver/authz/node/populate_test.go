package node

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// fakePodStore serves List and Watch of pods; the other methods are not
// used by the populator (the embedded nil Store panics if they are).
type fakePodStore struct {
	registry.Store
	pods    []corev1.Pod
	watcher *watch.FakeWatcher
}

func (s *fakePodStore) List(context.Context, string, *metav1.ListOptions) (runtime.Object, error) {
	return &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "10"}, Items: s.pods}, nil
}

func (s *fakePodStore) Watch(context.Context, string, *metav1.ListOptions) (watch.Interface, error) {
	return s.watcher, nil
}

func TestPopulateFromStores(t *testing.T) {
	st := &fakePodStore{pods: []corev1.Pod{*testPod("p1", "node1")}, watcher: watch.NewFakeWithChanSize(10, false)}
	z := New(func(gvr schema.GroupVersionResource) registry.Store {
		if gvr == gvrPods {
			return st
		}
		return nil // PVs and volume attachments are not served
	})
	if z.HasSynced() {
		t.Fatal("synced before Start")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	z.Start(ctx)
	waitFor(t, z.HasSynced)
	if !z.Graph().Has("node1", Secret, "ns", "vol-p1") {
		t.Fatal("listed pod not in the graph")
	}
	p2 := testPod("p2", "node2")
	p2.ResourceVersion = "11"
	st.watcher.Add(p2)
	waitFor(t, func() bool { return z.Graph().Has("node2", Secret, "ns", "vol-p2") })
	p1 := testPod("p1", "node1")
	p1.ResourceVersion = "12"
	st.watcher.Delete(p1)
	waitFor(t, func() bool { return !z.Graph().Has("node1", Secret, "ns", "vol-p1") })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
