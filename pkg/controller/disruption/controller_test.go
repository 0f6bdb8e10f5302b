package disruption

import (
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/discovery/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

const ns = "default"

var (
	updatePDBStatus = controllertest.Action{Verb: "update", Resource: "poddisruptionbudgets", Subresource: "status", Namespace: ns, Name: "pdb"}
	labels          = map[string]string{"app": "web"}
)

func newPDB(minAvailable, maxUnavailable *intstr.IntOrString) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "pdb", Namespace: ns, UID: "pdb-uid", Generation: 2},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: minAvailable, MaxUnavailable: maxUnavailable,
			Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}
}

func intOrPct(s string) *intstr.IntOrString {
	v := intstr.Parse(s)
	return &v
}

func newRS(name string, replicas int32, owner *metav1.OwnerReference) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(name + "-uid")},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas}}
	if owner != nil {
		rs.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return rs
}

func ctrlRef(apiVersion, kind, name string) *metav1.OwnerReference {
	t := true
	return &metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID(name + "-uid"), Controller: &t}
}

func newPod(name string, ready bool, owner *metav1.OwnerReference) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(name + "-uid"), Labels: labels},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}}
	if owner != nil {
		p.OwnerReferences = []metav1.OwnerReference{*owner}
	}
	return p
}

type fixture struct {
	*controllertest.Fixture
	c        *Controller
	recorder *record.FakeRecorder
}

func setup(t *testing.T, objs ...runtime.Object) *fixture {
	f := controllertest.New(t, objs...)
	rec := record.NewFakeRecorder(100)
	inf := f.Informers
	c := New(f.Client, inf.Core().V1().Pods(), inf.Policy().V1().PodDisruptionBudgets(), inf.Apps().V1().ReplicaSets(),
		inf.Apps().V1().Deployments(), inf.Apps().V1().StatefulSets(), Options{Logger: f.Logger, Clock: f.Clock, Recorder: rec})
	return &fixture{Fixture: f, c: c, recorder: rec}
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func (f *fixture) status() policyv1.PodDisruptionBudgetStatus {
	f.T.Helper()
	return controllertest.Find[*policyv1.PodDisruptionBudget](f.Fixture, updatePDBStatus).Status
}

func checkCounts(t *testing.T, st policyv1.PodDisruptionBudgetStatus, expected, desired, current, allowed int32, reason string) {
	t.Helper()
	if st.ExpectedPods != expected || st.DesiredHealthy != desired || st.CurrentHealthy != current || st.DisruptionsAllowed != allowed {
		t.Errorf("status expected/desired/current/allowed = %d/%d/%d/%d, want %d/%d/%d/%d",
			st.ExpectedPods, st.DesiredHealthy, st.CurrentHealthy, st.DisruptionsAllowed, expected, desired, current, allowed)
	}
	cond := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
	if cond == nil || cond.Reason != reason {
		t.Fatalf("DisruptionAllowed condition %+v, want reason %s", cond, reason)
	}
	wantStatus := metav1.ConditionFalse
	if reason == policyv1.SufficientPodsReason {
		wantStatus = metav1.ConditionTrue
	}
	if cond.Status != wantStatus {
		t.Errorf("DisruptionAllowed status %s, want %s", cond.Status, wantStatus)
	}
}

// TestMinAvailableInt: expectedPods is the number of pods; one not Ready
// and one being deleted do not count as healthy.
func TestMinAvailableInt(t *testing.T) {
	rs := ctrlRef("apps/v1", "ReplicaSet", "web")
	deleting := newPod("web-d", true, rs)
	deleting.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	f := setup(t, newPDB(intOrPct("2"), nil), newRS("web", 3, nil),
		newPod("web-a", true, rs), newPod("web-b", true, rs), newPod("web-c", true, rs), newPod("web-e", false, rs), deleting)
	f.MustSync(f.c.sync, ns+"/pdb")
	f.ExpectActions(updatePDBStatus)
	st := f.status()
	checkCounts(t, st, 5, 2, 3, 1, policyv1.SufficientPodsReason)
	if st.ObservedGeneration != 2 {
		t.Errorf("observedGeneration %d, want 2", st.ObservedGeneration)
	}

	// The same state again: nothing written.
	pdb := newPDB(intOrPct("2"), nil)
	pdb.Status = st
	f2 := setup(t, pdb, newRS("web", 3, nil), newPod("web-a", true, rs), newPod("web-b", true, rs), newPod("web-c", true, rs),
		newPod("web-e", false, rs), deleting)
	f2.MustSync(f2.c.sync, ns+"/pdb")
	f2.ExpectActions()
}

// TestScaleOfControllers: percentages and maxUnavailable count the pods'
// controllers' replicas (a Deployment's for its ReplicaSet, a
// StatefulSet's), rounded up.
func TestScaleOfControllers(t *testing.T) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "dep", Namespace: ns, UID: "dep-uid"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(4))}}
	ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns, UID: "db-uid"},
		Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(2))}}
	rsRef, ssRef := ctrlRef("apps/v1", "ReplicaSet", "dep-1"), ctrlRef("apps/v1", "StatefulSet", "db")
	objs := []runtime.Object{dep, ss, newRS("dep-1", 3, ctrlRef("apps/v1", "Deployment", "dep")),
		newPod("a", true, rsRef), newPod("b", true, rsRef), newPod("c", false, rsRef), newPod("db-0", true, ssRef)}

	// maxUnavailable 34% of 6 = 2.04 → 3: desired 3, healthy 3.
	f := setup(t, append(objs, newPDB(nil, intOrPct("34%")))...)
	f.MustSync(f.c.sync, ns+"/pdb")
	checkCounts(t, f.status(), 6, 3, 3, 0, policyv1.InsufficientPodsReason)

	// minAvailable 30% of 6 = 1.8 → 2: one disruption allowed.
	f = setup(t, append(objs, newPDB(intOrPct("30%"), nil))...)
	f.MustSync(f.c.sync, ns+"/pdb")
	checkCounts(t, f.status(), 6, 2, 3, 1, policyv1.SufficientPodsReason)
}

// TestUnmanagedAndNoPods: pods without a controller count for nothing in
// a percentage (UnmanagedPods event); no pods at all is a NoPods event.
func TestUnmanagedAndNoPods(t *testing.T) {
	f := setup(t, newPDB(intOrPct("50%"), nil), newPod("lonely", true, nil))
	f.MustSync(f.c.sync, ns+"/pdb")
	checkCounts(t, f.status(), 0, 0, 1, 0, policyv1.InsufficientPodsReason)
	if ev := f.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning UnmanagedPods ") {
		t.Errorf("events %q, want one UnmanagedPods", ev)
	}

	f = setup(t, newPDB(intOrPct("1"), nil))
	f.MustSync(f.c.sync, ns+"/pdb")
	checkCounts(t, f.status(), 0, 1, 0, 0, policyv1.InsufficientPodsReason)
	if ev := f.events(); len(ev) != 1 || ev[0] != "Normal NoPods No matching pods found" {
		t.Errorf("events %q, want NoPods", ev)
	}
}

// TestFailSafe: a controller without a scale subresource fails the count;
// the PDB gets disruptionsAllowed 0 with SyncFailed.
func TestFailSafe(t *testing.T) {
	pdb := newPDB(nil, intOrPct("1"))
	pdb.Status.DisruptionsAllowed = 3
	f := setup(t, pdb, newPod("ds-x", true, ctrlRef("apps/v1", "DaemonSet", "ds")))
	f.Client.Discovery().(*fake.FakeDiscovery).Resources = []*metav1.APIResourceList{{GroupVersion: "apps/v1",
		APIResources: []metav1.APIResource{{Name: "daemonsets", Kind: "DaemonSet"}, {Name: "daemonsets/status", Kind: "DaemonSet"},
			{Name: "deployments", Kind: "Deployment"}, {Name: "deployments/scale", Kind: "Scale", Group: "autoscaling", Version: "v1"}}}}
	f.MustSync(f.c.sync, ns+"/pdb")
	// The fake discovery records its read as "get resource".
	f.ExpectActions(controllertest.Action{Verb: "get", Resource: "resource"}, updatePDBStatus)
	st := f.status()
	cond := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
	if st.DisruptionsAllowed != 0 || cond == nil || cond.Reason != policyv1.SyncFailedReason ||
		cond.Message != "daemonsets.apps does not implement the scale subresource" {
		t.Errorf("status %+v, want fail-safe", st)
	}
	if ev := f.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: daemonsets.apps") {
		t.Errorf("events %q", ev)
	}
}

// TestConflictRetried: a conflict on /status is returned for a retry,
// without the fail-safe write.
func TestConflictRetried(t *testing.T) {
	rs := ctrlRef("apps/v1", "ReplicaSet", "web")
	f := setup(t, newPDB(intOrPct("1"), nil), newRS("web", 1, nil), newPod("web-a", true, rs))
	f.Client.PrependReactor("update", "poddisruptionbudgets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "policy", Resource: "poddisruptionbudgets"}, "pdb", errors.New("stale"))
	})
	if err := f.Sync(f.c.sync, ns+"/pdb"); !apierrors.IsConflict(err) {
		t.Fatalf("sync: %v, want a conflict", err)
	}
	f.ExpectActions(updatePDBStatus)
}

// TestDisruptedPods: an entry younger than DeletionTimeout keeps its pod
// out of currentHealthy and brings a recheck; an older one is dropped
// with a NotDeleted event.
func TestDisruptedPods(t *testing.T) {
	rs := ctrlRef("apps/v1", "ReplicaSet", "web")
	now := controllertest.Epoch()
	pdb := newPDB(intOrPct("1"), nil)
	pdb.Status.DisruptedPods = map[string]metav1.Time{
		"web-a": metav1.NewTime(now.Add(-time.Minute)),
		"web-b": metav1.NewTime(now.Add(-3 * time.Minute)),
		"gone":  metav1.NewTime(now),
	}
	f := setup(t, pdb, newRS("web", 3, nil), newPod("web-a", true, rs), newPod("web-b", true, rs), newPod("web-c", true, rs))
	f.MustSync(f.c.sync, ns+"/pdb")
	st := f.status()
	checkCounts(t, st, 3, 1, 2, 1, policyv1.SufficientPodsReason)
	if len(st.DisruptedPods) != 1 || !st.DisruptedPods["web-a"].Time.Equal(now.Add(-time.Minute)) {
		t.Errorf("disruptedPods %v, want web-a only", st.DisruptedPods)
	}
	if ev := f.events(); len(ev) != 1 || ev[0] != "Warning NotDeleted Pod was expected by PDB default/default to be deleted but it wasn't" {
		t.Errorf("events %q", ev)
	}
}

// TestStaleDisruptionTarget: a True DisruptionTarget on a pod not being
// deleted is reset to False after the timeout; the kubelet's is left.
func TestStaleDisruptionTarget(t *testing.T) {
	now := controllertest.Epoch()
	stale := newPod("stale", true, nil)
	stale.Status.Conditions = append(stale.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget,
		Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI", LastTransitionTime: metav1.NewTime(now.Add(-3 * time.Minute))})
	fresh := stale.DeepCopy()
	fresh.Name = "fresh"
	fresh.Status.Conditions[1].LastTransitionTime = metav1.NewTime(now.Add(-time.Minute))
	kubelet := stale.DeepCopy()
	kubelet.Name = "kubelet"
	kubelet.Status.Conditions[1].Reason = corev1.PodReasonTerminationByKubelet
	f := setup(t, stale, fresh, kubelet)
	for _, name := range []string{"fresh", "kubelet", "stale"} {
		f.MustSync(f.c.sync, StalePodKeyPrefix+ns+"/"+name)
	}
	f.ExpectActions(controllertest.Action{Verb: "patch", Resource: "pods", Subresource: "status", Namespace: ns, Name: "stale"})
	got, err := f.Client.CoreV1().Pods(ns).Get(f.Ctx, "stale", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Status.Conditions[1]; c.Type != corev1.DisruptionTarget || c.Status != corev1.ConditionFalse {
		t.Errorf("condition %+v, want DisruptionTarget False", c)
	}
}

func ptr[T any](v T) *T { return &v }
