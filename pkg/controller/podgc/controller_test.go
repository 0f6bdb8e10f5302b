package podgc

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

func newController(t *testing.T, threshold int, objects ...runtime.Object) (*controllertest.Fixture, *Controller) {
	t.Helper()
	f := controllertest.New(t, objects...)
	c := New(f.Client, f.Informers.Core().V1().Pods(), f.Informers.Core().V1().Nodes(),
		Options{TerminatedPodGCThreshold: threshold, Logger: f.Logger, Clock: f.Clock})
	return f, c
}

func pod(name, node string, phase corev1.PodPhase, age time.Duration) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(controllertest.Epoch().Add(-age))},
		Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
}

func node(name string, ready corev1.ConditionStatus, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}}}
}

func terminating(p *corev1.Pod) *corev1.Pod {
	p.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	p.Finalizers = []string{"example.com/hold"} // what keeps it in the API
	return p
}

func act(verb, sub, name string) controllertest.Action {
	return controllertest.Action{Verb: verb, Resource: "pods", Subresource: sub, Namespace: "default", Name: name}
}

// TestTerminatedOverThreshold: only terminated pods count; the evicted
// one goes first, then the oldest; nothing is deleted under the threshold
// or with it disabled.
func TestTerminatedOverThreshold(t *testing.T) {
	evictedPod := pod("evicted", "n", corev1.PodFailed, time.Minute)
	evictedPod.Status.Reason = "Evicted"
	objs := []runtime.Object{node("n", corev1.ConditionTrue),
		pod("old", "n", corev1.PodSucceeded, time.Hour), pod("older", "n", corev1.PodFailed, 2*time.Hour),
		pod("new", "n", corev1.PodSucceeded, time.Second), evictedPod, pod("running", "n", corev1.PodRunning, 3*time.Hour)}
	f, c := newController(t, 2, objs...)
	f.MustSync(c.sync, gcKey)
	f.ExpectActions(act("delete", "", "evicted"), act("delete", "", "older"))
	del := f.Actions()[0].(k8stesting.DeleteAction)
	if g := del.GetDeleteOptions().GracePeriodSeconds; g == nil || *g != 0 {
		t.Errorf("delete grace period %v, want 0", g)
	}

	for _, threshold := range []int{4, 0, -1} {
		f, c := newController(t, threshold, objs...)
		f.MustSync(c.sync, gcKey)
		f.ExpectActions()
	}
}

// TestOrphanedAfterQuarantine: a pod bound to a node missing from the
// cache is deleted only after the quarantine and when the API confirms the
// node is gone, marked Failed with DisruptionTarget first; a node the
// cache merely lags behind keeps its pods.
func TestOrphanedAfterQuarantine(t *testing.T) {
	f, c := newController(t, DefaultTerminatedPodGCThreshold, pod("orphan", "gone", corev1.PodRunning, time.Hour),
		pod("lagging", "new", corev1.PodRunning, time.Hour))
	f.SeedAPI(node("new", corev1.ConditionTrue)) // the API has it, not the cache yet
	f.MustSync(c.sync, gcKey)
	f.Clock.Step(DefaultQuarantineTime - time.Second)
	f.MustSync(c.sync, gcKey)
	f.ExpectActions()
	f.Clock.Step(time.Second)
	f.MustSync(c.sync, gcKey)
	var got []string
	for _, a := range f.Actions() {
		got = append(got, controllertest.Describe(a).String())
	}
	want := "get nodes gone,get nodes new,patch pods/status default/orphan,delete pods default/orphan"
	if g := strings.Join(got[:2], ","); g != "get nodes gone,get nodes new" && g != "get nodes new,get nodes gone" {
		t.Fatalf("actions %v, want %s", got, want)
	}
	if g := strings.Join(got[2:], ","); g != "patch pods/status default/orphan,delete pods default/orphan" {
		t.Fatalf("actions %v, want %s", got, want)
	}
	patch := string(f.Actions()[2].(k8stesting.PatchAction).GetPatch())
	for _, s := range []string{`"phase":"Failed"`, `"type":"DisruptionTarget"`, `"reason":"DeletionByPodGC"`, `"message":"PodGC: node no longer exists"`, `"uid":"uid-orphan"`} {
		if !strings.Contains(patch, s) {
			t.Errorf("status patch %s lacks %s", patch, s)
		}
	}
	// The lagging node's quarantine starts over.
	f.ClearActions()
	f.MustSync(c.sync, gcKey)
	f.ExpectActions()
}

// TestTerminatingPods: terminating pods never scheduled, and those on a
// not-Ready out-of-service node, are force deleted; other terminating
// pods are the kubelet's.
func TestTerminatingPods(t *testing.T) {
	oos := corev1.Taint{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute}
	f, c := newController(t, DefaultTerminatedPodGCThreshold,
		node("dead", corev1.ConditionFalse, oos), node("sick", corev1.ConditionFalse), node("fine", corev1.ConditionTrue, oos),
		terminating(pod("unscheduled", "", corev1.PodPending, time.Hour)),
		terminating(pod("on-dead", "dead", corev1.PodRunning, time.Hour)),
		terminating(pod("on-sick", "sick", corev1.PodRunning, time.Hour)),
		terminating(pod("on-fine", "fine", corev1.PodRunning, time.Hour)))
	f.MustSync(c.sync, gcKey)
	f.ExpectActions(act("patch", "status", "on-dead"), act("delete", "", "on-dead"),
		act("patch", "status", "unscheduled"), act("delete", "", "unscheduled"))
	patch := string(f.Actions()[0].(k8stesting.PatchAction).GetPatch())
	if !strings.Contains(patch, `"phase":"Failed"`) || strings.Contains(patch, "DisruptionTarget") {
		t.Errorf("status patch %s: want Failed without a condition", patch)
	}
}

// TestOtherKeysIgnored: the queue has one key.
func TestOtherKeysIgnored(t *testing.T) {
	f, c := newController(t, 1, pod("a", "", corev1.PodSucceeded, 0), pod("b", "", corev1.PodSucceeded, 0))
	f.MustSync(c.sync, "default/a")
	f.ExpectActions()
}
