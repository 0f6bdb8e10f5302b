package replicaset

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

const ns = "default"

func newRS(name string, replicas int32) *appsv1.ReplicaSet {
	l := map[string]string{"app": name}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name), Generation: 1},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name, "tier": "front"}, Annotations: map[string]string{"a": "b"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}},
			},
		},
	}
}

// pod returns a pod of rs (owned by it when owned), created at age before
// the epoch.
func pod(rs *appsv1.ReplicaSet, name string, owned bool, age time.Duration) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name),
		Labels:            map[string]string{"app": rs.Spec.Selector.MatchLabels["app"], "tier": "front"},
		CreationTimestamp: metav1.NewTime(controllertest.Epoch().Add(-age))}}
	if owned {
		p.OwnerReferences = []metav1.OwnerReference{ControllerRef(rs, "ReplicaSet", "apps/v1")}
	}
	p.Status.Phase = corev1.PodPending
	return p
}

// running makes p scheduled on node, Running and Ready since readyAge
// before the epoch.
func running(p *corev1.Pod, node string, readyAge time.Duration) *corev1.Pod {
	p.Spec.NodeName = node
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
		LastTransitionTime: metav1.NewTime(controllertest.Epoch().Add(-readyAge))}}
	return p
}

func newController(t *testing.T, f *controllertest.Fixture) (*Controller, *record.FakeRecorder) {
	t.Helper()
	rec := record.NewFakeRecorder(1000)
	c, err := New(f.Client, f.Informers.Apps().V1().ReplicaSets(), f.Informers.Core().V1().Pods(),
		Options{Logger: f.Logger, Clock: f.Clock, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

func events(rec *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func countVerb(f *controllertest.Fixture, verb, resource string) int {
	n := 0
	for _, a := range f.Actions() {
		if a.GetVerb() == verb && a.GetResource().Resource == resource && a.GetSubresource() == "" {
			n++
		}
	}
	return n
}

var rsStatus = controllertest.Action{Verb: "update", Resource: "replicasets", Subresource: "status", Namespace: ns, Name: "web"}

// TestSyncCreatesPods: a ReplicaSet without pods gets replicas pods from
// its template, owned by it, with SuccessfulCreate events; a second sync
// on the same (stale) cache creates none (expectations).
func TestSyncCreatesPods(t *testing.T) {
	rs := newRS("web", 3)
	f := controllertest.New(t, rs)
	c, rec := newController(t, f)
	f.MustSync(c.sync, "default/web")
	create := controllertest.Action{Verb: "create", Resource: "pods", Namespace: ns, Name: "web-"}
	f.ExpectActions(create, create, create, rsStatus)
	p := controllertest.Find[*corev1.Pod](f, create)
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("owner reference %+v", ref)
	}
	if p.Labels["tier"] != "front" || p.Annotations["a"] != "b" || p.Spec.Containers[0].Image != "img" {
		t.Errorf("pod from template: %+v", p)
	}
	ev := events(rec)
	if len(ev) != 3 || !strings.HasPrefix(ev[0], "Normal SuccessfulCreate Created pod: web-") {
		t.Errorf("events %q", ev)
	}
	st := controllertest.Find[*appsv1.ReplicaSet](f, rsStatus).Status
	if st.Replicas != 0 || st.ObservedGeneration != 1 || ptr.Deref(st.TerminatingReplicas, -1) != 0 {
		t.Errorf("status %+v", st)
	}

	// The informer has not shown the pods yet: no duplicates.
	f.ClearActions()
	f.MustSync(c.sync, "default/web")
	if n := countVerb(f, "create", "pods"); n != 0 {
		t.Errorf("%d pods created again while expectations are pending", n)
	}
	// Once they are observed, nothing is missing.
	for i := range 3 {
		p := pod(rs, fmt.Sprintf("web-%d", i), true, 0)
		f.SeedCache(p)
		c.addPod(p)
	}
	if !c.expectations.Satisfied("default/web") {
		t.Fatal("expectations not satisfied after 3 creations observed")
	}
	f.ClearActions()
	f.MustSync(c.sync, "default/web")
	if n := countVerb(f, "create", "pods"); n != 0 {
		t.Errorf("%d pods created with all 3 there", n)
	}
}

// TestExpectationsExpire: creations never observed stop holding the
// ReplicaSet back after ExpectationsTimeout.
func TestExpectationsExpire(t *testing.T) {
	f := controllertest.New(t, newRS("web", 2))
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	f.ClearActions()
	f.Clock.Step(ExpectationsTimeout + time.Second)
	f.MustSync(c.sync, "default/web")
	if n := countVerb(f, "create", "pods"); n != 2 {
		t.Errorf("%d creates after the expectations expired, want 2", n)
	}
}

// TestSlowStart: creates go in batches of 1, 2, 4…; the first failing
// batch stops the rest, the error is returned, the ReplicaFailure
// condition and a FailedCreate event say why, and the creates never tried
// are not expected.
func TestSlowStart(t *testing.T) {
	f := controllertest.New(t, newRS("web", 10))
	var creates atomic.Int32
	f.Client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		if creates.Add(1) > 3 {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New("exceeded quota"))
		}
		return false, nil, nil
	})
	c, rec := newController(t, f)
	err := f.Sync(c.sync, "default/web")
	if !apierrors.IsForbidden(err) {
		t.Fatalf("sync = %v, want the create's error", err)
	}
	if n := creates.Load(); n != 7 { // batches 1, 2, then 4 failing
		t.Errorf("%d creates, want 7", n)
	}
	if adds, _ := c.expectations.pending("default/web"); adds != 3 {
		t.Errorf("expecting %d creations, want the 3 that succeeded", adds)
	}
	st := controllertest.Find[*appsv1.ReplicaSet](f, rsStatus).Status
	if len(st.Conditions) != 1 || st.Conditions[0].Type != appsv1.ReplicaSetReplicaFailure || st.Conditions[0].Reason != "FailedCreate" ||
		!strings.Contains(st.Conditions[0].Message, "exceeded quota") {
		t.Errorf("conditions %+v", st.Conditions)
	}
	var failed int
	for _, e := range events(rec) {
		if strings.HasPrefix(e, "Warning FailedCreate Error creating: ") {
			failed++
		}
	}
	if failed != 4 {
		t.Errorf("%d FailedCreate events, want 4", failed)
	}
}

// TestSyncDeletesRankedPods: surplus pods go unscheduled first, then
// pending, then not ready; SuccessfulDelete events; a second sync on the
// stale cache deletes nothing more.
func TestSyncDeletesRankedPods(t *testing.T) {
	rs := newRS("web", 2)
	unscheduled := pod(rs, "unscheduled", true, time.Hour)
	pending := pod(rs, "pending", true, time.Hour)
	pending.Spec.NodeName = "n1"
	notReady := running(pod(rs, "not-ready", true, time.Hour), "n1", time.Hour)
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	ready1 := running(pod(rs, "ready-1", true, time.Hour), "n2", time.Hour)
	ready2 := running(pod(rs, "ready-2", true, time.Hour), "n3", time.Hour)
	f := controllertest.New(t, rs, ready1, notReady, unscheduled, ready2, pending)
	c, rec := newController(t, f)
	rs.Spec.Replicas = ptr.To[int32](2)
	f.MustSync(c.sync, "default/web")
	deleted := map[string]bool{}
	for _, a := range f.Actions() {
		if a.GetVerb() == "delete" {
			deleted[controllertest.Describe(a).Name] = true
		}
	}
	if len(deleted) != 3 || !deleted["unscheduled"] || !deleted["pending"] || !deleted["not-ready"] {
		t.Errorf("deleted %v, want unscheduled, pending and not-ready", deleted)
	}
	if ev := events(rec); len(ev) != 3 || !strings.HasPrefix(ev[0], "Normal SuccessfulDelete Deleted pod: ") {
		t.Errorf("events %q", ev)
	}
	f.ClearActions()
	f.MustSync(c.sync, "default/web")
	if n := countVerb(f, "delete", "pods"); n != 0 {
		t.Errorf("%d more deletes on a stale cache", n)
	}
	// The deletions observed (deletion timestamps) satisfy expectations.
	for _, p := range []*corev1.Pod{unscheduled, pending, notReady} {
		c.deletePod(p)
	}
	if !c.expectations.Satisfied("default/web") {
		t.Error("expectations not satisfied after the deletions were observed")
	}
}

// TestRanking checks the remaining rules of upstream's order.
func TestRanking(t *testing.T) {
	rs := newRS("web", 1)
	now := controllertest.Epoch()
	cost := func(p *corev1.Pod, c string) *corev1.Pod {
		p.Annotations = map[string]string{PodDeletionCostAnnotation: c}
		return p
	}
	restarts := func(p *corev1.Pod, n int32) *corev1.Pod {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", RestartCount: n}}
		return p
	}
	for _, tc := range []struct {
		name        string
		first, then *corev1.Pod
		firstRank   int
		thenRank    int
	}{
		{"lower deletion cost", cost(running(pod(rs, "a", true, time.Hour), "n1", time.Hour), "-5"), cost(running(pod(rs, "b", true, time.Hour), "n1", time.Hour), "10"), 1, 1},
		{"doubled up", running(pod(rs, "a", true, time.Hour), "n1", time.Hour), running(pod(rs, "b", true, time.Hour), "n2", time.Hour), 3, 1},
		{"ready for less time", running(pod(rs, "a", true, time.Hour), "n1", time.Minute), running(pod(rs, "b", true, time.Hour), "n2", 10*time.Hour), 1, 1},
		{"more restarts", restarts(running(pod(rs, "a", true, time.Hour), "n1", time.Hour), 5), restarts(running(pod(rs, "b", true, time.Hour), "n2", time.Hour), 1), 1, 1},
		{"newer", pod(rs, "a", true, time.Minute), pod(rs, "b", true, 10*time.Hour), 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := rankedPods{pods: []*corev1.Pod{tc.then, tc.first}, rank: []int{tc.thenRank, tc.firstRank}, now: now}
			if !s.Less(1, 0) || s.Less(0, 1) {
				t.Errorf("%s does not come before %s", tc.first.Name, tc.then.Name)
			}
		})
	}
	// Through podsToDelete: the node with three related pods loses its own first.
	a := running(pod(rs, "a", true, time.Hour), "crowded", time.Hour)
	b := running(pod(rs, "b", true, time.Hour), "alone", time.Hour)
	related := []*corev1.Pod{a, b, running(pod(rs, "x", true, time.Hour), "crowded", time.Hour), running(pod(rs, "y", true, time.Hour), "crowded", time.Hour)}
	if got := podsToDelete([]*corev1.Pod{b, a}, related, 1, now); got[0].Name != "a" {
		t.Errorf("deleted %s, want the doubled-up a", got[0].Name)
	}
}

// TestSyncAdoptsAndReleases: an orphan matching the selector is adopted
// (after a live read of the ReplicaSet), an owned pod that stopped
// matching is released, another controller's pod is left alone.
func TestSyncAdoptsAndReleases(t *testing.T) {
	rs := newRS("web", 2)
	orphan := pod(rs, "orphan", false, time.Hour)
	strayed := pod(rs, "strayed", true, time.Hour)
	strayed.Labels = map[string]string{"app": "other"}
	other := pod(rs, "others", false, time.Hour)
	other.OwnerReferences = []metav1.OwnerReference{ControllerRef(&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "x", UID: "uid-x"}}, "ReplicaSet", "apps/v1")}
	owned := pod(rs, "owned", true, time.Hour)
	f := controllertest.New(t, rs, orphan, strayed, other, owned)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	// Owned pods come first, then the orphans.
	f.ExpectActions(
		controllertest.Action{Verb: "patch", Resource: "pods", Namespace: ns, Name: "strayed"},
		controllertest.Action{Verb: "get", Resource: "replicasets", Namespace: ns, Name: "web"},
		controllertest.Action{Verb: "patch", Resource: "pods", Namespace: ns, Name: "orphan"},
		rsStatus,
	)
	for _, a := range f.Actions() {
		if p, ok := a.(k8stesting.PatchAction); ok {
			if p.GetPatchType() != types.StrategicMergePatchType {
				t.Errorf("patch type %s", p.GetPatchType())
			}
			s := string(p.GetPatch())
			switch p.GetName() {
			case "orphan":
				if !strings.Contains(s, `"controller":true`) || !strings.Contains(s, `"blockOwnerDeletion":true`) || !strings.Contains(s, `"uid":"uid-orphan"`) {
					t.Errorf("adoption patch %s", s)
				}
			case "strayed":
				if !strings.Contains(s, `"$patch":"delete"`) || !strings.Contains(s, `"uid":"uid-web"`) {
					t.Errorf("release patch %s", s)
				}
			}
		}
	}
	if st := controllertest.Find[*appsv1.ReplicaSet](f, rsStatus).Status; st.Replicas != 2 {
		t.Errorf("status replicas %d, want the owned and the adopted pod", st.Replicas)
	}
}

// TestSyncNoAdoptionWhileDeleting: a ReplicaSet deleted meanwhile (the live
// read says so) adopts nothing and reports why.
func TestSyncNoAdoptionWhileDeleting(t *testing.T) {
	rs := newRS("web", 1)
	f := controllertest.New(t, rs, pod(rs, "orphan", false, time.Hour))
	gone := rs.DeepCopy()
	gone.DeletionTimestamp = ptr.To(metav1.NewTime(controllertest.Epoch()))
	f.Client.PrependReactor("get", "replicasets", func(k8stesting.Action) (bool, runtime.Object, error) { return true, gone, nil })
	c, _ := newController(t, f)
	if err := f.Sync(c.sync, "default/web"); err == nil || !strings.Contains(err.Error(), "has just been deleted") {
		t.Errorf("sync = %v", err)
	}
	if n := countVerb(f, "patch", "pods"); n != 0 {
		t.Errorf("%d patches", n)
	}
}

// TestStatusCounts: readyReplicas, availableReplicas after minReadySeconds,
// fullyLabeledReplicas, terminatingReplicas; the ReplicaSet is requeued
// for when the next pod becomes available.
func TestStatusCounts(t *testing.T) {
	rs := newRS("web", 3)
	rs.Spec.MinReadySeconds = 30
	longReady := running(pod(rs, "a", true, time.Hour), "n1", time.Hour)
	newlyReady := running(pod(rs, "b", true, time.Hour), "n1", 10*time.Second)
	partial := pod(rs, "c", true, time.Hour)
	delete(partial.Labels, "tier")
	terminating := running(pod(rs, "d", true, time.Hour), "n1", time.Hour)
	terminating.DeletionTimestamp = ptr.To(metav1.NewTime(controllertest.Epoch()))
	f := controllertest.New(t, rs, longReady, newlyReady, partial, terminating)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	st := controllertest.Find[*appsv1.ReplicaSet](f, rsStatus).Status
	want := appsv1.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 1, TerminatingReplicas: ptr.To[int32](1)}
	if st.Replicas != want.Replicas || st.FullyLabeledReplicas != want.FullyLabeledReplicas || st.ReadyReplicas != want.ReadyReplicas ||
		st.AvailableReplicas != want.AvailableReplicas || st.ObservedGeneration != 1 || *st.TerminatingReplicas != 1 {
		t.Errorf("status %+v, want %+v", st, want)
	}
	if n := countVerb(f, "create", "pods"); n != 0 {
		t.Errorf("%d creates: the terminating pod is not a replica but 3 are active", n)
	}
	// An unchanged status is not written again.
	rs2 := rs.DeepCopy()
	rs2.Status = st
	f2 := controllertest.New(t, rs2, longReady, newlyReady, partial, terminating)
	c2, _ := newController(t, f2)
	f2.MustSync(c2.sync, "default/web")
	f2.ExpectActions()
}

// TestStatusConflictRetried: a 409 on the status write is retried once on
// a fresh read.
func TestStatusConflictRetried(t *testing.T) {
	rs := newRS("web", 0)
	f := controllertest.New(t, rs)
	var calls atomic.Int32
	f.Client.PrependReactor("update", "replicasets", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && calls.Add(1) == 1 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "web", errors.New("modified"))
		}
		return false, nil, nil
	})
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	f.ExpectActions(rsStatus, controllertest.Action{Verb: "get", Resource: "replicasets", Namespace: ns, Name: "web"}, rsStatus)
}

// TestSyncGoneAndDeleting: a ReplicaSet the cache lacks is done (its
// expectations forgotten); one being deleted creates nothing.
func TestSyncGoneAndDeleting(t *testing.T) {
	rs := newRS("web", 2)
	rs.DeletionTimestamp = ptr.To(metav1.NewTime(controllertest.Epoch()))
	f := controllertest.New(t, rs)
	c, _ := newController(t, f)
	c.expectations.ExpectCreations("default/gone", 3)
	f.MustSync(c.sync, "default/gone")
	if adds, _ := c.expectations.pending("default/gone"); adds != 0 {
		t.Error("expectations of a gone ReplicaSet kept")
	}
	f.MustSync(c.sync, "default/web")
	if n := countVerb(f, "create", "pods"); n != 0 {
		t.Errorf("%d pods created for a ReplicaSet being deleted", n)
	}
}

func TestPodNamePrefix(t *testing.T) {
	ref := metav1.OwnerReference{}
	if p := podFromTemplate(&corev1.PodTemplateSpec{}, "web", &ref); p.GenerateName != "web-" {
		t.Errorf("generateName %q", p.GenerateName)
	}
	long := strings.Repeat("a", 253)
	if p := podFromTemplate(&corev1.PodTemplateSpec{}, long, &ref); p.GenerateName != long {
		t.Errorf("generateName of a 253-character name has %d characters", len(p.GenerateName))
	}
}

// TestSlowStartBatchInFlight: batches keep upstream's sizes while at most
// inFlight calls run at once.
func TestSlowStartBatchInFlight(t *testing.T) {
	var cur, peak, calls atomic.Int32
	ok, err := slowStartBatch(100, 1, 8, func() error {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		cur.Add(-1)
		calls.Add(1)
		return nil
	})
	if ok != 100 || err != nil || calls.Load() != 100 {
		t.Errorf("slowStartBatch = %d, %v after %d calls", ok, err, calls.Load())
	}
	if p := peak.Load(); p > 8 || p < 2 {
		t.Errorf("peak concurrency %d, want 2..8", p)
	}
}
