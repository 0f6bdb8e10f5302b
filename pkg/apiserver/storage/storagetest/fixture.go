package storagetest

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// Fixture is one store under test.
type Fixture struct {
	// Store keeps pods under "/pods/<namespace>/<name>".
	Store storage.Interface
	// Compact discards the history of the underlying etcd before revision rev.
	Compact func(ctx context.Context, rev int64) error
	// WatchHistory is the number of events a watch can be resumed from at most
	// (e.g. a cacher's window size); 0 when only compaction limits it. The
	// too-old-watch test makes more writes than that before compacting.
	WatchHistory int
}

// Factory returns a fresh, empty Fixture for one subtest; stores from different
// calls must not see each other's keys.
type Factory func(t *testing.T) Fixture

// Codec returns the codec the suite's stores use: core/v1 JSON with apiVersion
// and kind, from client-go's scheme.
func Codec() runtime.Codec {
	return scheme.Codecs.LegacyCodec(corev1.SchemeGroupVersion)
}

// NewPod and NewPodList are the NewFunc and NewListFunc of the suite's resource.
func NewPod() runtime.Object { return &corev1.Pod{} }

// NewPodList returns an empty *corev1.PodList.
func NewPodList() runtime.Object { return &corev1.PodList{} }

// PodAttrs are the selectable fields of pods used by the suite: metadata.name,
// metadata.namespace and spec.nodeName.
func PodAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	l, f, err := storage.DefaultNamespaceScopedAttrs(obj)
	if err != nil {
		return nil, nil, err
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		f["spec.nodeName"] = pod.Spec.NodeName
	}
	return l, f, nil
}

// PodKey returns the storage key of pod ns/name.
func PodKey(ns, name string) string { return "/pods/" + ns + "/" + name }

func newPod(ns, name string, lbls map[string]string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls, UID: types.UID("uid-" + ns + "-" + name)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

// testContext returns a context for one subtest, cancelled when it ends.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// create stores a pod and returns it as stored.
func create(ctx context.Context, t *testing.T, s storage.Interface, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	out := &corev1.Pod{}
	if err := s.Create(ctx, PodKey(pod.Namespace, pod.Name), pod.DeepCopy(), out, 0); err != nil {
		t.Fatalf("create %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	return out
}

// update changes a stored pod with mutate and returns the result.
func update(ctx context.Context, t *testing.T, s storage.Interface, ns, name string, mutate func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	out := &corev1.Pod{}
	err := s.GuaranteedUpdate(ctx, PodKey(ns, name), out, false, nil, func(existing runtime.Object) (runtime.Object, error) {
		pod := existing.(*corev1.Pod)
		mutate(pod)
		return pod, nil
	})
	if err != nil {
		t.Fatalf("update %s/%s: %v", ns, name, err)
	}
	return out
}

// del deletes a stored pod and returns its last state.
func del(ctx context.Context, t *testing.T, s storage.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	out := &corev1.Pod{}
	if err := s.Delete(ctx, PodKey(ns, name), out, nil, nil); err != nil {
		t.Fatalf("delete %s/%s: %v", ns, name, err)
	}
	return out
}

// rv parses the resourceVersion of an object or list.
func rv(t *testing.T, obj interface{ GetResourceVersion() string }) int64 {
	t.Helper()
	v, err := storage.ParseResourceVersion(obj.GetResourceVersion())
	if err != nil || v == 0 {
		t.Fatalf("bad resourceVersion %q on %T: %v", obj.GetResourceVersion(), obj, err)
	}
	return int64(v)
}

func currentRV(ctx context.Context, t *testing.T, s storage.Interface) int64 {
	t.Helper()
	v, err := s.GetCurrentResourceVersion(ctx)
	if err != nil {
		t.Fatalf("current resource version: %v", err)
	}
	return int64(v)
}

func rvString(v int64) string { return storage.FormatResourceVersion(uint64(v)) }

func names(pods []corev1.Pod) []string {
	out := make([]string, 0, len(pods))
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

// getPod reads a stored pod.
func getPod(ctx context.Context, t *testing.T, s storage.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	out := &corev1.Pod{}
	if err := s.Get(ctx, PodKey(ns, name), storage.GetOptions{}, out); err != nil {
		t.Fatalf("get %s/%s: %v", ns, name, err)
	}
	return out
}
