package deployment

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

const ns = "default"

func newDeployment(replicas int32, surge, unavailable intstr.IntOrString) *appsv1.Deployment {
	l := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web", UID: "uid-web", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}},
			},
		},
	}
}

func recreate(d *appsv1.Deployment) *appsv1.Deployment {
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	return d
}

// rsFor returns the ReplicaSet d's controller makes for image, owned by d,
// at revision rev with replicas (all available) and created age ago.
func rsFor(d *appsv1.Deployment, image string, rev string, size int32, age time.Duration) *appsv1.ReplicaSet {
	template := *d.Spec.Template.DeepCopy()
	template.Spec.Containers[0].Image = image
	hash := ComputeHash(&template, nil)
	template.Labels = withLabel(template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: replicaSetName(d.Name, hash), UID: types.UID("uid-" + image),
			Generation: 1, Labels: template.Labels, CreationTimestamp: metav1.NewTime(controllertest.Epoch().Add(-age)),
			OwnerReferences: []metav1.OwnerReference{replicaset.ControllerRef(d, "Deployment", "apps/v1")},
			Annotations:     map[string]string{RevisionAnnotation: rev, DesiredReplicasAnnotation: "", MaxReplicasAnnotation: ""}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To(size),
			Selector: selectorWithLabel(d.Spec.Selector, appsv1.DefaultDeploymentUniqueLabelKey, hash), Template: template},
		Status: appsv1.ReplicaSetStatus{Replicas: size, ReadyReplicas: size, AvailableReplicas: size, ObservedGeneration: 1,
			TerminatingReplicas: ptr.To[int32](0)},
	}
}

// annotated sets the replica annotations as a controller of d sized rs.
func annotated(rs *appsv1.ReplicaSet, desired, max int32) *appsv1.ReplicaSet {
	setReplicasAnnotations(rs, desired, max)
	return rs
}

func newController(t *testing.T, f *controllertest.Fixture) (*Controller, *record.FakeRecorder) {
	t.Helper()
	rec := record.NewFakeRecorder(1000)
	apps := f.Informers.Apps().V1()
	c, err := New(f.Client, apps.Deployments(), apps.ReplicaSets(), f.Informers.Core().V1().Pods(),
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

// updates returns the ReplicaSets the controller sent in updates (not
// status), in order.
func rsUpdates(f *controllertest.Fixture) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, a := range f.Actions() {
		if a.GetVerb() == "update" && a.GetResource().Resource == "replicasets" && a.GetSubresource() == "" {
			out = append(out, controllertest.ObjectOf[*appsv1.ReplicaSet](f.T, a))
		}
	}
	return out
}

// lastStatus returns the last Deployment status the controller wrote.
func lastStatus(t *testing.T, f *controllertest.Fixture) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	for _, a := range f.Actions() {
		if a.GetVerb() == "update" && a.GetResource().Resource == "deployments" && a.GetSubresource() == "status" {
			d = controllertest.ObjectOf[*appsv1.Deployment](t, a)
		}
	}
	if d == nil {
		t.Fatal("no status written")
	}
	return d
}

func cond(d *appsv1.Deployment, typ appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	return getCondition(d.Status, typ)
}

// TestSyncNewDeployment: the first sync creates web-<hash> with the
// hash label in selector and template, revision 1 and the replica
// annotations, records ScalingReplicaSet, and writes the Deployment's
// revision and NewReplicaSetCreated.
func TestSyncNewDeployment(t *testing.T) {
	d := newDeployment(3, intstr.FromString("25%"), intstr.FromString("25%"))
	d.Annotations = map[string]string{"team": "a", corev1.LastAppliedConfigAnnotation: "{}"}
	f := controllertest.New(t, d)
	c, rec := newController(t, f)
	f.MustSync(c.sync, "default/web")
	hash := ComputeHash(&d.Spec.Template, nil)
	create := controllertest.Action{Verb: "create", Resource: "replicasets", Namespace: ns, Name: "web-" + hash}
	status := controllertest.Action{Verb: "update", Resource: "deployments", Subresource: "status", Namespace: ns, Name: "web"}
	f.ExpectActions(create, status, status)
	rs := controllertest.Find[*appsv1.ReplicaSet](f, create)
	if *rs.Spec.Replicas != 3 || rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
		t.Errorf("replica set %+v", rs)
	}
	wantAnn := map[string]string{RevisionAnnotation: "1", DesiredReplicasAnnotation: "3", MaxReplicasAnnotation: "4", "team": "a"}
	for k, v := range wantAnn {
		if rs.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, rs.Annotations[k], v)
		}
	}
	if _, ok := rs.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		t.Error("last-applied-configuration copied to the ReplicaSet")
	}
	if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("owner %+v", ref)
	}
	if ev := events(rec); len(ev) != 1 || ev[0] != "Normal ScalingReplicaSet Scaled up replica set web-"+hash+" from 0 to 3" {
		t.Errorf("events %q", ev)
	}
	got := lastStatus(t, f)
	if got.Annotations[RevisionAnnotation] != "1" {
		t.Errorf("deployment revision %q", got.Annotations[RevisionAnnotation])
	}
	if c := cond(got, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonNewReplicaSetCreated || c.Message != `Created new replica set "web-`+hash+`"` {
		t.Errorf("Progressing %+v", c)
	}
	if c := cond(got, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionFalse || c.Reason != ReasonMinimumUnavailable {
		t.Errorf("Available %+v", c)
	}
}

// TestRollingUpdateSteps walks a rollout of 3 replicas with maxSurge 1 and
// maxUnavailable 0: surge the new ReplicaSet to 1, then (once available)
// the old one down by 1, …, then complete.
func TestRollingUpdateSteps(t *testing.T) {
	d := newDeployment(3, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Spec.Template.Spec.Containers[0].Image = "web:2"
	old := annotated(rsFor(d, "web:1", "1", 3, time.Hour), 3, 4)

	// Step 1: the new ReplicaSet is created with 1 replica (3+1-3).
	f := controllertest.New(t, d, old)
	c, rec := newController(t, f)
	f.MustSync(c.sync, "default/web")
	hash := ComputeHash(&d.Spec.Template, nil)
	created := controllertest.Find[*appsv1.ReplicaSet](f, controllertest.Action{Verb: "create", Resource: "replicasets", Namespace: ns, Name: "web-" + hash})
	if *created.Spec.Replicas != 1 || created.Annotations[RevisionAnnotation] != "2" {
		t.Errorf("new ReplicaSet: %d replicas, revision %q", *created.Spec.Replicas, created.Annotations[RevisionAnnotation])
	}
	if ev := events(rec); len(ev) != 1 || ev[0] != "Normal ScalingReplicaSet Scaled up replica set web-"+hash+" from 0 to 1" {
		t.Errorf("events %q", ev)
	}

	// Step 2: the new replica is available: the old ReplicaSet goes to 2.
	newRS := annotated(rsFor(d, "web:2", "2", 1, time.Minute), 3, 4)
	d.Annotations = map[string]string{RevisionAnnotation: "2"}
	f = controllertest.New(t, d, old, newRS)
	c, rec = newController(t, f)
	f.MustSync(c.sync, "default/web")
	ups := rsUpdates(f)
	if len(ups) != 1 || ups[0].Name != old.Name || *ups[0].Spec.Replicas != 2 {
		t.Fatalf("updates %v, want the old ReplicaSet to 2", names(ups))
	}
	if ev := events(rec); len(ev) != 1 || ev[0] != "Normal ScalingReplicaSet Scaled down replica set "+old.Name+" from 3 to 2" {
		t.Errorf("events %q", ev)
	}
	st := lastStatus(t, f)
	if st.Status.UpdatedReplicas != 1 || st.Status.Replicas != 4 || st.Status.AvailableReplicas != 4 {
		t.Errorf("status %+v", st.Status)
	}

	// Step 3: new at 1 (available), old at 2: the new one surges to 2.
	old2 := annotated(rsFor(d, "web:1", "1", 2, time.Hour), 3, 4)
	f = controllertest.New(t, d, old2, newRS)
	c, _ = newController(t, f)
	f.MustSync(c.sync, "default/web")
	if ups := rsUpdates(f); len(ups) != 1 || ups[0].Name != newRS.Name || *ups[0].Spec.Replicas != 2 {
		t.Errorf("updates %v, want the new ReplicaSet to 2", names(ups))
	}

	// Step 3': the new replica is not available yet: nothing moves.
	newUnavailable := annotated(rsFor(d, "web:2", "2", 2, time.Minute), 3, 4)
	newUnavailable.Status.AvailableReplicas = 1
	f = controllertest.New(t, d, old2, newUnavailable)
	c, _ = newController(t, f)
	f.MustSync(c.sync, "default/web")
	if ups := rsUpdates(f); len(ups) != 0 {
		t.Errorf("updates %v with a new replica unavailable and maxUnavailable 0", names(ups))
	}

	// Complete: new at 3 available, old at 0: NewReplicaSetAvailable.
	done := annotated(rsFor(d, "web:2", "2", 3, time.Minute), 3, 4)
	oldDone := annotated(rsFor(d, "web:1", "1", 0, time.Hour), 3, 4)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ReadyReplicas: 3,
		Conditions: []appsv1.DeploymentCondition{newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, "", controllertest.Epoch())}}
	f = controllertest.New(t, d, oldDone, done)
	c, _ = newController(t, f)
	f.MustSync(c.sync, "default/web")
	st = lastStatus(t, f)
	if c := cond(st, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonNewRSAvailable || c.Message != `ReplicaSet "`+done.Name+`" has successfully progressed.` {
		t.Errorf("Progressing %+v", c)
	}
	if c := cond(st, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != ReasonMinimumAvailable {
		t.Errorf("Available %+v", c)
	}
}

func names(rss []*appsv1.ReplicaSet) []string {
	var out []string
	for _, rs := range rss {
		out = append(out, fmt.Sprintf("%s=%d", rs.Name, *rs.Spec.Replicas))
	}
	return out
}

// TestUnhealthyOldReplicasGoFirst: old replicas that are not available
// are scaled away even when no available one may go.
func TestUnhealthyOldReplicasGoFirst(t *testing.T) {
	d := newDeployment(4, intstr.FromInt32(0), intstr.FromInt32(1))
	d.Spec.Template.Spec.Containers[0].Image = "web:2"
	old := annotated(rsFor(d, "web:1", "1", 4, time.Hour), 4, 4)
	old.Status.AvailableReplicas = 2
	newRS := annotated(rsFor(d, "web:2", "2", 0, time.Minute), 4, 4)
	f := controllertest.New(t, d, old, newRS)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	// maxScaledDown = 4 - 3 - 0 = 1: one unavailable old replica goes.
	if ups := rsUpdates(f); len(ups) != 1 || ups[0].Name != old.Name || *ups[0].Spec.Replicas != 3 {
		t.Errorf("updates %v, want old to 3", names(ups))
	}
}

// TestRecreate: old ReplicaSets go to zero first; the new one is created
// only when no old pod is left.
func TestRecreate(t *testing.T) {
	d := recreate(newDeployment(2, intstr.FromInt32(0), intstr.FromInt32(0)))
	d.Spec.Template.Spec.Containers[0].Image = "web:2"
	old := annotated(rsFor(d, "web:1", "1", 2, time.Hour), 2, 2)
	f := controllertest.New(t, d, old)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	if ups := rsUpdates(f); len(ups) != 1 || *ups[0].Spec.Replicas != 0 {
		t.Fatalf("updates %v, want the old ReplicaSet to 0", names(ups))
	}
	for _, a := range f.Actions() {
		if a.GetVerb() == "create" {
			t.Errorf("%s before the old pods are gone", controllertest.Describe(a))
		}
	}

	// Scaled to zero, but a pod still runs: wait.
	oldZero := annotated(rsFor(d, "web:1", "1", 0, time.Hour), 2, 2)
	oldZero.Status.Replicas = 0
	lingering := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web-old-1", UID: "uid-p",
		OwnerReferences: []metav1.OwnerReference{replicaset.ControllerRef(oldZero, "ReplicaSet", "apps/v1")}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	f = controllertest.New(t, d, oldZero, lingering)
	c, _ = newController(t, f)
	f.MustSync(c.sync, "default/web")
	for _, a := range f.Actions() {
		if a.GetVerb() == "create" {
			t.Errorf("%s while an old pod runs", controllertest.Describe(a))
		}
	}

	// All gone: the new ReplicaSet is created at full size.
	f = controllertest.New(t, d, oldZero)
	c, rec := newController(t, f)
	f.MustSync(c.sync, "default/web")
	hash := ComputeHash(&d.Spec.Template, nil)
	created := controllertest.Find[*appsv1.ReplicaSet](f, controllertest.Action{Verb: "create", Resource: "replicasets", Namespace: ns, Name: "web-" + hash})
	if *created.Spec.Replicas != 2 || created.Annotations[MaxReplicasAnnotation] != "2" {
		t.Errorf("new ReplicaSet %d replicas, annotations %v", *created.Spec.Replicas, created.Annotations)
	}
	if ev := events(rec); len(ev) != 1 || !strings.Contains(ev[0], "from 0 to 2") {
		t.Errorf("events %q", ev)
	}
}

// TestProportionalScaling: scaling 10 → 15 in the middle of a rollout
// (old 8, new 5, max-replicas 13) hands the 6 extra replicas out by size:
// old 8·19/13 → 12, new 5·19/13 → 7.
func TestProportionalScaling(t *testing.T) {
	d := newDeployment(15, intstr.FromString("25%"), intstr.FromString("25%"))
	d.Spec.Template.Spec.Containers[0].Image = "web:2"
	d.Status.Replicas = 13
	old := annotated(rsFor(d, "web:1", "1", 8, time.Hour), 10, 13)
	newRS := annotated(rsFor(d, "web:2", "2", 5, time.Minute), 10, 13)
	newRS.Status.AvailableReplicas = 2
	f := controllertest.New(t, d, old, newRS)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	got := map[string]int32{}
	for _, rs := range rsUpdates(f) {
		got[rs.Name] = *rs.Spec.Replicas
		if rs.Annotations[DesiredReplicasAnnotation] != "15" || rs.Annotations[MaxReplicasAnnotation] != "19" {
			t.Errorf("%s annotations %v", rs.Name, rs.Annotations)
		}
	}
	if got[old.Name] != 12 || got[newRS.Name] != 7 {
		t.Errorf("sizes %v, want old 12 and new 7", got)
	}
}

// TestFenceposts: percentages round maxSurge up and maxUnavailable down;
// both zero make maxUnavailable 1.
func TestFenceposts(t *testing.T) {
	for _, tc := range []struct {
		surge, unavailable intstr.IntOrString
		replicas           int32
		wantS, wantU       int32
	}{
		{intstr.FromString("25%"), intstr.FromString("25%"), 10, 3, 2},
		{intstr.FromString("25%"), intstr.FromString("25%"), 1, 1, 0},
		{intstr.FromInt32(0), intstr.FromInt32(0), 5, 0, 1},
		{intstr.FromString("0%"), intstr.FromString("10%"), 5, 0, 1},
		{intstr.FromInt32(2), intstr.FromString("50%"), 3, 2, 1},
	} {
		d := newDeployment(tc.replicas, tc.surge, tc.unavailable)
		if s, u := maxSurge(d), maxUnavailable(d); s != tc.wantS || u != tc.wantU {
			t.Errorf("%s/%s of %d: surge %d unavailable %d, want %d %d", tc.surge.String(), tc.unavailable.String(), tc.replicas, s, u, tc.wantS, tc.wantU)
		}
	}
}

// TestPaused: a paused Deployment with a new template rolls nothing out and
// says DeploymentPaused; resumed, DeploymentResumed.
func TestPaused(t *testing.T) {
	d := newDeployment(3, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Spec.Paused = true
	d.Spec.Template.Spec.Containers[0].Image = "web:2"
	old := annotated(rsFor(d, "web:1", "1", 3, time.Hour), 3, 4)
	f := controllertest.New(t, d, old)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	for _, a := range f.Actions() {
		if a.GetResource().Resource == "replicasets" {
			t.Errorf("%s while paused", controllertest.Describe(a))
		}
	}
	if c := cond(lastStatus(t, f), appsv1.DeploymentProgressing); c == nil || c.Status != corev1.ConditionUnknown || c.Reason != ReasonPaused {
		t.Errorf("Progressing %+v", c)
	}

	d.Spec.Paused = false
	d.Status.Conditions = []appsv1.DeploymentCondition{newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused", controllertest.Epoch())}
	f = controllertest.New(t, d, old)
	c, _ = newController(t, f)
	f.MustSync(c.sync, "default/web")
	var sawResumed bool
	for _, a := range f.Actions() {
		if a.GetSubresource() == "status" {
			if c := cond(controllertest.ObjectOf[*appsv1.Deployment](t, a), appsv1.DeploymentProgressing); c != nil && c.Reason == ReasonResumed {
				sawResumed = true
			}
		}
	}
	if !sawResumed {
		t.Error("no DeploymentResumed")
	}
}

// TestRestartIsARollout: a template annotation (kubectl rollout restart)
// makes a new ReplicaSet.
func TestRestartIsARollout(t *testing.T) {
	d := newDeployment(2, intstr.FromInt32(1), intstr.FromInt32(0))
	old := annotated(rsFor(d, "web:1", "1", 2, time.Hour), 2, 3)
	d.Spec.Template.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
	f := controllertest.New(t, d, old)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	hash := ComputeHash(&d.Spec.Template, nil)
	rs := controllertest.Find[*appsv1.ReplicaSet](f, controllertest.Action{Verb: "create", Resource: "replicasets", Namespace: ns, Name: "web-" + hash})
	if rs.Name == old.Name || rs.Annotations[RevisionAnnotation] != "2" {
		t.Errorf("restart made %s revision %s", rs.Name, rs.Annotations[RevisionAnnotation])
	}
}

// TestRollbackReusesReplicaSet: the template set back to revision 1's
// (kubectl rollout undo) makes that ReplicaSet the new one, at revision 3
// with "1" in its revision-history.
func TestRollbackReusesReplicaSet(t *testing.T) {
	d := newDeployment(2, intstr.FromInt32(1), intstr.FromInt32(0))
	rev1 := annotated(rsFor(d, "web:1", "1", 0, 2*time.Hour), 2, 3)
	rev2 := annotated(rsFor(d, "web:2", "2", 2, time.Hour), 2, 3)
	f := controllertest.New(t, d, rev1, rev2)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	ups := rsUpdates(f)
	if len(ups) == 0 || ups[0].Name != rev1.Name || ups[0].Annotations[RevisionAnnotation] != "3" || ups[0].Annotations[RevisionHistoryAnnotation] != "1" {
		t.Fatalf("first update %v", ups)
	}
}

// TestCleanup: a complete Deployment keeps revisionHistoryLimit old
// ReplicaSets, deleting the oldest revisions at zero.
func TestCleanup(t *testing.T) {
	d := newDeployment(1, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	d.Spec.Template.Spec.Containers[0].Image = "web:4"
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, AvailableReplicas: 1, ReadyReplicas: 1}
	var objs []runtime.Object
	objs = append(objs, d)
	for i, img := range []string{"web:1", "web:2", "web:3"} {
		objs = append(objs, annotated(rsFor(d, img, fmt.Sprint(i+1), 0, time.Duration(5-i)*time.Hour), 1, 2))
	}
	objs = append(objs, annotated(rsFor(d, "web:4", "4", 1, time.Minute), 1, 2))
	f := controllertest.New(t, objs...)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	var deleted []string
	for _, a := range f.Actions() {
		if a.GetVerb() == "delete" {
			deleted = append(deleted, controllertest.Describe(a).Name)
		}
	}
	want1 := objs[1].(*appsv1.ReplicaSet).Name
	want2 := objs[2].(*appsv1.ReplicaSet).Name
	if len(deleted) != 2 || deleted[0] != want1 || deleted[1] != want2 {
		t.Errorf("deleted %v, want revisions 1 and 2 (%s, %s)", deleted, want1, want2)
	}
}

// TestProgressDeadline: no progress for progressDeadlineSeconds makes
// Progressing False with ProgressDeadlineExceeded.
func TestProgressDeadline(t *testing.T) {
	d := newDeployment(2, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Spec.Template.Spec.Containers[0].Image = "web:2"
	old := annotated(rsFor(d, "web:1", "1", 2, time.Hour), 2, 3)
	newRS := annotated(rsFor(d, "web:2", "2", 1, time.Hour), 2, 3)
	newRS.Status.AvailableReplicas, newRS.Status.ReadyReplicas = 0, 0
	d.Annotations = map[string]string{RevisionAnnotation: "2"}
	stale := controllertest.Epoch().Add(-11 * time.Minute)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 1, AvailableReplicas: 2, ReadyReplicas: 2, UnavailableReplicas: 1,
		TerminatingReplicas: ptr.To[int32](0),
		Conditions: []appsv1.DeploymentCondition{
			newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "Deployment has minimum availability.", stale),
			newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, "", stale)}}
	f := controllertest.New(t, d, old, newRS)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	got := cond(lastStatus(t, f), appsv1.DeploymentProgressing)
	if got == nil || got.Status != corev1.ConditionFalse || got.Reason != ReasonTimedOut || got.Message != `ReplicaSet "`+newRS.Name+`" has timed out progressing.` {
		t.Errorf("Progressing %+v", got)
	}
}

// TestAdoptsOrphanReplicaSet: a ReplicaSet without owner matching the
// selector is adopted (patch with a controller reference).
func TestAdoptsOrphanReplicaSet(t *testing.T) {
	d := newDeployment(1, intstr.FromInt32(1), intstr.FromInt32(0))
	orphan := annotated(rsFor(d, "web:1", "1", 1, time.Hour), 1, 2)
	orphan.OwnerReferences = nil
	f := controllertest.New(t, d, orphan)
	c, _ := newController(t, f)
	f.MustSync(c.sync, "default/web")
	acts := f.Actions()
	if len(acts) < 2 || controllertest.Describe(acts[0]) != (controllertest.Action{Verb: "get", Resource: "deployments", Namespace: ns, Name: "web"}) ||
		controllertest.Describe(acts[1]) != (controllertest.Action{Verb: "patch", Resource: "replicasets", Namespace: ns, Name: orphan.Name}) {
		t.Errorf("actions %v", acts)
	}
}

// TestSelectingAll: an empty selector gets an event and its generation
// observed, nothing else.
func TestSelectingAll(t *testing.T) {
	d := newDeployment(1, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Spec.Selector = &metav1.LabelSelector{}
	f := controllertest.New(t, d)
	c, rec := newController(t, f)
	f.MustSync(c.sync, "default/web")
	f.ExpectActions(controllertest.Action{Verb: "update", Resource: "deployments", Subresource: "status", Namespace: ns, Name: "web"})
	if ev := events(rec); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning SelectingAll ") {
		t.Errorf("events %q", ev)
	}
}

func TestHashAndName(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "b"}}}}
	h0, h1 := ComputeHash(tpl, nil), ComputeHash(tpl, ptr.To[int32](1))
	if h0 == h1 || h0 != ComputeHash(tpl.DeepCopy(), nil) {
		t.Errorf("hashes %q %q", h0, h1)
	}
	for _, r := range h0 {
		if !strings.ContainsRune("bcdfghjklmnpqrstvwxz2456789", r) {
			t.Errorf("hash %q has %q, not a safe character", h0, r)
		}
	}
	long := strings.Repeat("d", 260)
	if n := replicaSetName(long, h0); len(n) != 253 || !strings.HasSuffix(n, "-"+h0) {
		t.Errorf("name of %d characters: %q", len(n), n)
	}
}
