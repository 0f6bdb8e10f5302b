package controller

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

func newTestLoop() *Loop {
	return New(Config{Name: "test", Sync: func(context.Context, string) error { return nil }})
}

// drain returns the keys waiting in l's queue, sorted.
func drain(l *Loop) []string {
	var keys []string
	for l.queue.Len() > 0 {
		k, _ := l.queue.Get()
		l.queue.Done(k)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func pod(ns, name, rv string, owners ...metav1.OwnerReference) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv, OwnerReferences: owners}}
}

func controllerRef(apiVersion, kind, name string) metav1.OwnerReference {
	yes := true
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, Controller: &yes}
}

func TestHandlerEnqueuesOwnKeys(t *testing.T) {
	l := newTestLoop()
	h := l.Handler(HandlerOptions{})
	h.OnAdd(pod("default", "a", "1"), false)
	h.OnUpdate(pod("default", "b", "1"), pod("default", "b", "2"))
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "default/c"}) // a tombstone without its object
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "default/d", Obj: pod("default", "d", "3")})
	h.OnAdd(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, false)
	if got, want := drain(l), []string{"default/a", "default/b", "default/c", "default/d", "node-1"}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if st := l.Stats(); st.Adds != 5 {
		t.Errorf("Adds = %d, want 5 (an update of one object is one add)", st.Adds)
	}
}

func TestHandlerFilterAndSkipResync(t *testing.T) {
	l := newTestLoop()
	h := l.Handler(HandlerOptions{
		Filter:     func(obj any) bool { p, ok := Object[*corev1.Pod](obj); return ok && p.Labels["app"] == "web" },
		SkipResync: true,
	})
	web := pod("default", "web", "1")
	web.Labels = map[string]string{"app": "web"}
	other := pod("default", "other", "1")
	h.OnAdd(web, false)
	h.OnAdd(other, false)
	if got := drain(l); !slices.Equal(got, []string{"default/web"}) {
		t.Errorf("adds enqueued %v", got)
	}
	h.OnUpdate(web, web) // a resync: same resourceVersion
	if got := drain(l); len(got) != 0 {
		t.Errorf("a resync enqueued %v", got)
	}
	// The object stops matching: still enqueued, through its old version.
	relabelled := web.DeepCopy()
	relabelled.ResourceVersion = "2"
	relabelled.Labels["app"] = "api"
	h.OnUpdate(web, relabelled)
	if got := drain(l); !slices.Equal(got, []string{"default/web"}) {
		t.Errorf("an update out of the filter enqueued %v", got)
	}
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "default/web", Obj: web})
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "default/gone"})
	if got := drain(l); !slices.Equal(got, []string{"default/web"}) {
		t.Errorf("deletes enqueued %v", got)
	}
}

func TestHandlerMapsPodsToTheirReplicaSet(t *testing.T) {
	l := newTestLoop()
	h := l.Handler(HandlerOptions{Keys: ControllerKeys(schema.GroupKind{Group: "apps", Kind: "ReplicaSet"})})
	h.OnAdd(pod("default", "web-1", "1", controllerRef("apps/v1", "ReplicaSet", "web")), false)
	h.OnAdd(pod("default", "orphan", "1"), false)
	h.OnAdd(pod("default", "job-1", "1", controllerRef("batch/v1", "Job", "job")), false)
	h.OnAdd(pod("default", "other-group", "1", controllerRef("example.com/v1", "ReplicaSet", "x")), false)
	notController := controllerRef("apps/v1", "ReplicaSet", "owner-only")
	notController.Controller = nil
	h.OnAdd(pod("default", "owned", "1", notController), false)
	if got := drain(l); !slices.Equal(got, []string{"default/web"}) {
		t.Errorf("adds enqueued %v", got)
	}
	// Adopted by another ReplicaSet: both are enqueued.
	h.OnUpdate(pod("kube-system", "p", "1", controllerRef("apps/v1", "ReplicaSet", "old")),
		pod("kube-system", "p", "2", controllerRef("apps/v1", "ReplicaSet", "new")))
	h.OnDelete(cache.DeletedFinalStateUnknown{Key: "default/web-2", Obj: pod("default", "web-2", "1", controllerRef("apps/v1", "ReplicaSet", "web"))})
	if got, want := drain(l), []string{"default/web", "kube-system/new", "kube-system/old"}; !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
}

func TestObjectUnwrapsTombstones(t *testing.T) {
	p := pod("default", "a", "1")
	if got, ok := Object[*corev1.Pod](cache.DeletedFinalStateUnknown{Key: "default/a", Obj: p}); !ok || got != p {
		t.Errorf("Object(tombstone) = %v, %v", got, ok)
	}
	if _, ok := Object[*corev1.Node](p); ok {
		t.Error("a pod is not a node")
	}
	if _, ok := Object[*corev1.Pod](cache.DeletedFinalStateUnknown{Key: "default/a"}); ok {
		t.Error("an empty tombstone has no pod")
	}
	if key, err := KeyOf(cache.DeletedFinalStateUnknown{Key: "default/a"}); err != nil || key != "default/a" {
		t.Errorf("KeyOf(tombstone) = %q, %v", key, err)
	}
}

func TestNewPanicsWithoutSync(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New without Sync must panic")
		}
	}()
	New(Config{Name: "x"})
}
