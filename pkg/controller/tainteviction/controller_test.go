package tainteviction

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

type env struct {
	t      *testing.T
	f      *controllertest.Fixture
	c      *Controller
	events *record.FakeRecorder
}

func newEnv(t *testing.T, objects ...runtime.Object) *env {
	t.Helper()
	f := controllertest.New(t, objects...)
	events := record.NewFakeRecorder(100)
	c, err := New(f.Client, f.Informers.Core().V1().Nodes(), f.Informers.Core().V1().Pods(),
		Options{Recorder: events, Logger: f.Logger, Clock: f.Clock})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, f: f, c: c, events: events}
}

func node(name string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints}}
}

var (
	unreachable = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	noSchedule  = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}
)

func pod(name, nodeName string, tolerations ...corev1.Toleration) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec:   corev1.PodSpec{NodeName: nodeName, Tolerations: tolerations},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

func tolerate(key string, seconds *int64) corev1.Toleration {
	return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}
}

func act(verb, sub, name string) controllertest.Action {
	return controllertest.Action{Verb: verb, Resource: "pods", Subresource: sub, Namespace: "default", Name: name}
}

func evicted(name string) []controllertest.Action {
	return []controllertest.Action{act("get", "", name), act("patch", "status", name), act("delete", "", name)}
}

func (e *env) expectEvents(want ...string) {
	e.t.Helper()
	var got []string
	for len(e.events.Events) > 0 {
		got = append(got, <-e.events.Events)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		e.t.Errorf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestIntolerantPodIsEvictedAtOnce: a pod without a matching toleration
// gets DisruptionTarget and is deleted, with upstream's event; pods that
// tolerate the taint forever, and NoSchedule taints, are left alone.
func TestIntolerantPodIsEvictedAtOnce(t *testing.T) {
	e := newEnv(t, node("n", unreachable, noSchedule), pod("bare", "n"),
		pod("forever", "n", tolerate(corev1.TaintNodeUnreachable, nil)),
		pod("all", "n", corev1.Toleration{Operator: corev1.TolerationOpExists}),
		pod("elsewhere", "m"))
	e.f.MustSync(e.c.sync, "n")
	e.f.ExpectActions(evicted("bare")...)
	e.expectEvents("Normal TaintManagerEviction Marking for deletion Pod default/bare")
	obj, err := e.f.Client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("pods"), "default", "bare")
	if !apierrors.IsNotFound(err) {
		t.Errorf("pod still there: %v %v", obj, err)
	}
	patch := string(e.f.Actions()[1].(k8stesting.PatchAction).GetPatch())
	for _, s := range []string{`"type":"DisruptionTarget"`, `"reason":"DeletionByTaintManager"`, `"message":"Taint manager: deleting due to NoExecute taint"`, `"uid":"uid-bare"`} {
		if !strings.Contains(patch, s) {
			t.Errorf("status patch %s lacks %s", patch, s)
		}
	}
	// Nothing more to do.
	e.f.ClearActions()
	e.uncache("bare")
	e.f.MustSync(e.c.sync, "n")
	e.f.MustSync(e.c.sync, "default/forever")
	e.f.MustSync(e.c.sync, "default/elsewhere")
	e.f.ExpectActions()
}

// TestTolerationSeconds: a pod tolerating the taint for 5 s is deleted
// once they passed (the timer enqueues it), the shortest of its matching
// tolerations counting; tolerationSeconds 0 or negative is at once.
func TestTolerationSeconds(t *testing.T) {
	e := newEnv(t, node("n", unreachable), pod("five", "n", tolerate(corev1.TaintNodeUnreachable, ptr.To[int64](5)),
		tolerate("", ptr.To[int64](60))), pod("zero", "n", tolerate(corev1.TaintNodeUnreachable, ptr.To[int64](-3))))
	e.f.MustSync(e.c.sync, "n")
	e.f.ExpectActions(evicted("zero")...)
	e.f.ClearActions()
	e.uncache("zero")
	e.expectEvents("Normal TaintManagerEviction Marking for deletion Pod default/zero")

	e.f.Clock.Step(4 * time.Second)
	e.f.MustSync(e.c.sync, "default/five")
	e.f.MustSync(e.c.sync, "n")
	e.f.ExpectActions()
	adds := e.c.Stats().Adds
	e.f.Clock.Step(time.Second)
	waitFor(t, func() bool { return e.c.Stats().Adds > adds }) // the timer enqueued the pod
	e.f.MustSync(e.c.sync, "default/five")
	e.f.ExpectActions(evicted("five")...)
	e.expectEvents("Normal TaintManagerEviction Marking for deletion Pod default/five")
}

// TestTaintRemovedCancels: the eviction is cancelled (with upstream's
// event) when the taints go before the tolerationSeconds.
func TestTaintRemovedCancels(t *testing.T) {
	e := newEnv(t, node("n", unreachable), pod("p", "n", tolerate(corev1.TaintNodeUnreachable, ptr.To[int64](5))))
	e.f.MustSync(e.c.sync, "n")
	e.f.Clock.Step(3 * time.Second)
	e.f.SeedCache(node("n", noSchedule)) // cache: NoExecute taint gone
	e.f.MustSync(e.c.sync, "n")
	e.expectEvents("Normal TaintManagerEviction Cancelling deletion of Pod default/p")
	e.f.Clock.Step(time.Minute)
	e.f.MustSync(e.c.sync, "default/p")
	e.f.ExpectActions()
	// Tainted again: the count starts over.
	e.f.SeedCache(node("n", unreachable))
	e.f.MustSync(e.c.sync, "n")
	e.f.Clock.Step(4 * time.Second)
	e.f.MustSync(e.c.sync, "default/p")
	e.f.ExpectActions()
	e.f.Clock.Step(time.Second)
	e.f.MustSync(e.c.sync, "default/p")
	e.f.ExpectActions(evicted("p")...)
}

// TestPodGoneCancels: a pod deleted meanwhile has its eviction cancelled.
func TestPodGoneCancels(t *testing.T) {
	p := pod("p", "n", tolerate(corev1.TaintNodeUnreachable, ptr.To[int64](5)))
	e := newEnv(t, node("n", unreachable), p)
	e.f.MustSync(e.c.sync, "n")
	if err := e.f.Informers.Core().V1().Pods().Informer().GetIndexer().Delete(p); err != nil {
		t.Fatal(err)
	}
	e.f.MustSync(e.c.sync, "default/p")
	e.expectEvents("Normal TaintManagerEviction Cancelling deletion of Pod default/p")
	e.f.Clock.Step(time.Minute)
	e.f.MustSync(e.c.sync, "n")
	e.f.ExpectActions()
}

// TestFailedDeleteIsRetried: a failed delete returns an error (the loop
// retries), announced once; a pod already gone is done.
func TestFailedDeleteIsRetried(t *testing.T) {
	e := newEnv(t, node("n", unreachable), pod("p", "n"))
	fail := true
	e.f.Client.PrependReactor("delete", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if fail {
			return true, nil, apierrors.NewServiceUnavailable("etcd is down")
		}
		return false, nil, nil
	})
	if err := e.f.Sync(e.c.sync, "default/p"); !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("sync error %v", err)
	}
	fail = false
	e.f.MustSync(e.c.sync, "default/p")
	e.expectEvents("Normal TaintManagerEviction Marking for deletion Pod default/p")
	// DisruptionTarget was set by the first attempt: not patched again.
	e.f.ExpectActions(act("get", "", "p"), act("patch", "status", "p"), act("delete", "", "p"), act("get", "", "p"), act("delete", "", "p"))
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "default/p") // cache still has it: the API answers NotFound
	e.f.ExpectActions(act("get", "", "p"))
}

// uncache removes a deleted pod from the informer's cache, as its watch
// would.
func (e *env) uncache(name string) {
	e.t.Helper()
	idx := e.f.Informers.Core().V1().Pods().Informer().GetIndexer()
	obj, ok, err := idx.GetByKey("default/" + name)
	if err != nil || !ok {
		e.t.Fatalf("pod %s not cached: %v", name, err)
	}
	if err := idx.Delete(obj); err != nil {
		e.t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 500 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not met")
}
