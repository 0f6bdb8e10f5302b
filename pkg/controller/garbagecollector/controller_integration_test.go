package garbagecollector_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/garbagecollector"
)

const ns = "gc"

// env is a real apiserver on etcd with a namespace for the test.
type env struct {
	t      *testing.T
	ctx    context.Context
	client kubernetes.Interface
	meta   metadata.Interface
}

func startEnv(t *testing.T) *env {
	t.Helper()
	inst, client := integration.Start(t)
	meta, err := metadata.NewForConfig(inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: t.Context(), client: client, meta: meta}
	integration.CreateNamespace(e.ctx, t, client, ns)
	return e
}

// run starts a garbage collector until the returned stop is called (or
// the test ends).
func (e *env) run(workers int) (stop func()) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	// A cached discovery client, as the controller manager gives it.
	events := record.NewBroadcaster(record.WithContext(ctx))
	events.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: e.client.CoreV1().Events("")})
	c := garbagecollector.New(e.meta, memory.NewMemCacheClient(e.client.Discovery()), garbagecollector.Options{
		Recorder: events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: garbagecollector.EventComponent}),
		Logger:   integration.Logger(e.t)})
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, workers) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		defer events.Shutdown()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			e.t.Error("Run did not return 30s after its context ended")
		}
	}
	e.t.Cleanup(stop)
	return stop
}

// configMap creates a configmap owned by owners (blocking their deletion
// when block), with finalizers.
func (e *env) configMap(name string, block bool, finalizers []string, owners ...*corev1.ConfigMap) *corev1.ConfigMap {
	e.t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Finalizers: finalizers}}
	for _, o := range owners {
		b := block
		cm.OwnerReferences = append(cm.OwnerReferences, metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap",
			Name: o.Name, UID: o.UID, BlockOwnerDeletion: &b})
	}
	out, err := e.client.CoreV1().ConfigMaps(ns).Create(e.ctx, cm, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *env) deleteConfigMap(name string, policy metav1.DeletionPropagation) {
	e.t.Helper()
	if err := e.client.CoreV1().ConfigMaps(ns).Delete(e.ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil {
		e.t.Fatal(err)
	}
}

// waitFor polls the configmap name until cond holds for it (nil: gone).
func (e *env) waitFor(name, what string, cond func(*corev1.ConfigMap) bool) {
	e.t.Helper()
	var last *corev1.ConfigMap
	err := wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		cm, err := e.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return cond(nil), nil
		}
		if err != nil {
			return false, err
		}
		last = cm
		return cond(cm), nil
	})
	if err != nil {
		e.t.Fatalf("configmap %s: not %s after 30s: %v; last seen %+v", name, what, err, last)
	}
}

func gone(cm *corev1.ConfigMap) bool { return cm == nil }

// TestIntegrationPropagation runs the collector against a real apiserver
// on etcd with configmaps owning configmaps: background, orphan and
// foreground deletions, a dependent of an owner that never existed, and
// one that keeps a live owner.
func TestIntegrationPropagation(t *testing.T) {
	e := startEnv(t)
	e.run(garbagecollector.DefaultConcurrentSyncs)

	// Background: the dependents go after the owner.
	owner := e.configMap("bg-owner", false, nil)
	e.configMap("bg-dep-1", false, nil, owner)
	e.configMap("bg-dep-2", true, nil, owner)
	start := time.Now()
	e.deleteConfigMap("bg-owner", metav1.DeletePropagationBackground)
	e.waitFor("bg-dep-1", "gone", gone)
	e.waitFor("bg-dep-2", "gone", gone)
	t.Logf("background: dependents gone %v after their owner", time.Since(start).Round(time.Millisecond))

	// Orphan: the owner goes, its dependents stay without the reference;
	// references to other owners stay.
	owner = e.configMap("orphan-owner", false, nil)
	other := e.configMap("orphan-other", false, nil)
	e.configMap("orphan-dep", true, nil, owner)
	e.configMap("orphan-dep-2", false, nil, owner, other)
	e.deleteConfigMap("orphan-owner", metav1.DeletePropagationOrphan)
	e.waitFor("orphan-owner", "gone", gone)
	e.waitFor("orphan-dep", "orphaned", func(cm *corev1.ConfigMap) bool { return cm != nil && len(cm.OwnerReferences) == 0 })
	e.waitFor("orphan-dep-2", "orphaned", func(cm *corev1.ConfigMap) bool {
		return cm != nil && len(cm.OwnerReferences) == 1 && cm.OwnerReferences[0].UID == other.UID
	})
	time.Sleep(time.Second)
	e.waitFor("orphan-dep", "still there", func(cm *corev1.ConfigMap) bool { return cm != nil && cm.DeletionTimestamp == nil })

	// Foreground: the owner stays while a blocking dependent does (held
	// by a finalizer of its own), and goes once it is gone.
	owner = e.configMap("fg-owner", false, nil)
	e.configMap("fg-blocking", true, []string{"example.com/hold"}, owner)
	e.configMap("fg-other", false, nil, owner)
	e.deleteConfigMap("fg-owner", metav1.DeletePropagationForeground)
	e.waitFor("fg-blocking", "being deleted", func(cm *corev1.ConfigMap) bool { return cm != nil && cm.DeletionTimestamp != nil })
	e.waitFor("fg-other", "gone", gone)
	time.Sleep(time.Second)
	e.waitFor("fg-owner", "kept with its finalizer", func(cm *corev1.ConfigMap) bool {
		return cm != nil && cm.DeletionTimestamp != nil && slices.Contains(cm.Finalizers, metav1.FinalizerDeleteDependents)
	})
	if _, err := e.client.CoreV1().ConfigMaps(ns).Patch(e.ctx, "fg-blocking", types.MergePatchType,
		[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("fg-blocking", "gone", gone)
	e.waitFor("fg-owner", "gone", gone)

	// A dependent whose owner never existed goes; one with a live owner
	// besides loses the dangling reference only.
	live := e.configMap("live-owner", false, nil)
	ghost := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "ghost", UID: "0000-never-existed"}}
	e.configMap("dangling", false, nil, ghost)
	e.configMap("half-dangling", false, nil, ghost, live)
	e.waitFor("dangling", "gone", gone)
	e.waitFor("half-dangling", "without the dangling reference", func(cm *corev1.ConfigMap) bool {
		return cm != nil && len(cm.OwnerReferences) == 1 && cm.OwnerReferences[0].UID == live.UID
	})
	// An owner of the same name but another uid is not the owner.
	e.configMap("ghost", false, nil)
	e.configMap("wrong-uid", false, nil, ghost)
	e.waitFor("wrong-uid", "gone", gone)
	e.waitFor("ghost", "kept", func(cm *corev1.ConfigMap) bool { return cm != nil })

	// A dependent naming an owner of another namespace: a warning event
	// on it, and it goes (its owner does not exist in its namespace).
	if _, err := e.client.CoreV1().Namespaces().Create(e.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	yes := true
	stray := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "stray", OwnerReferences: []metav1.OwnerReference{
		{APIVersion: "v1", Kind: "ConfigMap", Name: live.Name, UID: live.UID, BlockOwnerDeletion: &yes}}}}
	if _, err := e.client.CoreV1().ConfigMaps("other").Create(e.ctx, stray, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var msg string
	if err := wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := e.client.CoreV1().Events("other").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, ev := range list.Items {
			if ev.Reason == "OwnerRefInvalidNamespace" && ev.InvolvedObject.Name == "stray" && ev.Type == corev1.EventTypeWarning {
				msg = ev.Message
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Fatalf("no OwnerRefInvalidNamespace event on the stray dependent: %v", err)
	}
	if want := fmt.Sprintf(`ownerRef [v1/ConfigMap, namespace: other, name: live-owner, uid: %s] does not exist in namespace "other"`, live.UID); msg != want {
		t.Errorf("event message %q, want %q", msg, want)
	}
	if err := wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := e.client.CoreV1().ConfigMaps("other").Get(ctx, "stray", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		t.Errorf("the stray dependent is still there: %v", err)
	}
	e.waitFor("live-owner", "kept", func(cm *corev1.ConfigMap) bool { return cm != nil && cm.DeletionTimestamp == nil })
}

// TestIntegrationRestart stops the collector in the middle of deleting
// many dependents and starts another: every dependent goes.
func TestIntegrationRestart(t *testing.T) {
	e := startEnv(t)
	owner := e.configMap("owner", false, nil)
	const n = 60
	for i := range n {
		e.configMap(fmt.Sprintf("dep-%02d", i), true, nil, owner)
	}
	stop := e.run(1)
	e.deleteConfigMap("owner", metav1.DeletePropagationBackground)
	remaining := func() int {
		list, err := e.client.CoreV1().ConfigMaps(ns).List(e.ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, cm := range list.Items {
			if len(cm.OwnerReferences) > 0 {
				left++
			}
		}
		return left
	}
	if err := wait.PollUntilContextTimeout(e.ctx, 5*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return remaining() < n, nil
	}); err != nil {
		t.Fatalf("no dependent deleted: %v", err)
	}
	stop()
	left := remaining()
	t.Logf("stopped with %d of %d dependents left", left, n)
	if left == 0 {
		t.Log("the first collector finished before it was stopped: the restart has nothing to do")
	}
	e.run(garbagecollector.DefaultConcurrentSyncs)
	if err := wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return remaining() == 0, nil
	}); err != nil {
		t.Fatalf("%d dependents left after the restart: %v", remaining(), err)
	}
}
