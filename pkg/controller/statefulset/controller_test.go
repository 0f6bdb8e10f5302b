package statefulset

import (
	"strings"
	"testing"

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

func webSet(replicas int32) *appsv1.StatefulSet {
	l := map[string]string{"app": "web"}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "set-uid", Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(replicas),
			Selector:    &metav1.LabelSelector{MatchLabels: l},
			ServiceName: "nginx",
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "web:1"}}}},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](0)}},
			RevisionHistoryLimit: ptr.To[int32](10),
		},
	}
}

type fixture struct {
	*controllertest.Fixture
	c        *Controller
	recorder *record.FakeRecorder
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := controllertest.New(t, objs...)
	rec := record.NewFakeRecorder(100)
	apps := f.Informers.Apps().V1()
	c, err := New(f.Client, apps.StatefulSets(), apps.ControllerRevisions(), f.Informers.Core().V1().Pods(),
		Options{Logger: f.Logger, Clock: f.Clock, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
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

// podActions returns "verb name" of the pod creates and deletes made.
func (f *fixture) podActions() []string {
	var out []string
	for _, a := range f.Actions() {
		d := controllertest.Describe(a)
		if d.Resource == "pods" && (d.Verb == "create" || d.Verb == "delete") {
			out = append(out, d.Verb+" "+d.Name)
		}
	}
	return out
}

// revisionOf creates set's current revision and returns its name.
func revisionOf(t *testing.T, set *appsv1.StatefulSet) *appsv1.ControllerRevision {
	t.Helper()
	rev, err := newRevision(set, 1, ptr.To[int32](0))
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func statefulPod(set *appsv1.StatefulSet, ordinal int, rev string, ready bool) *corev1.Pod {
	p := newPod(set, ordinal)
	p.UID = types.UID(p.Name + "-uid")
	p.Labels[RevisionLabel] = rev
	p.Status.Phase = corev1.PodRunning
	if ready {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	return p
}

func TestOrderedReadyCreatesOneAtATime(t *testing.T) {
	set := webSet(3)
	f := newFixture(t, set)
	f.MustSync(f.c.sync, "default/web")
	if got := f.podActions(); strings.Join(got, ",") != "create web-0" {
		t.Fatalf("pod actions %v, want create web-0", got)
	}
	p := controllertest.Find[*corev1.Pod](f.Fixture, controllertest.Action{Verb: "create", Resource: "pods", Namespace: "default", Name: "web-0"})
	if p.Labels[PodNameLabel] != "web-0" || p.Labels[PodIndexLabel] != "0" || p.Labels[RevisionLabel] == "" ||
		p.Spec.Hostname != "web-0" || p.Spec.Subdomain != "nginx" {
		t.Errorf("pod identity: labels %v hostname %q subdomain %q", p.Labels, p.Spec.Hostname, p.Spec.Subdomain)
	}
	if ev := f.events(); len(ev) != 1 || ev[0] != "Normal SuccessfulCreate Create Pod web-0 in StatefulSet web successful" {
		t.Errorf("events %q", ev)
	}
	got, _ := f.Client.AppsV1().StatefulSets("default").Get(f.Ctx, "web", metav1.GetOptions{})
	if s := got.Status; s.UpdateRevision != p.Labels[RevisionLabel] || s.CurrentRevision != s.UpdateRevision || s.ObservedGeneration != 1 ||
		s.CollisionCount == nil || *s.CollisionCount != 0 {
		t.Errorf("status %+v", s)
	}

	// web-0 not ready yet: nothing more.
	rev := p.Labels[RevisionLabel]
	f2 := newFixture(t, set, statefulPod(set, 0, rev, false))
	f2.MustSync(f2.c.sync, "default/web")
	if got := f2.podActions(); len(got) != 0 {
		t.Errorf("pod actions with web-0 unready: %v", got)
	}
	// web-0 Running and Ready: web-1 next.
	f3 := newFixture(t, set, statefulPod(set, 0, rev, true))
	f3.MustSync(f3.c.sync, "default/web")
	if got := f3.podActions(); strings.Join(got, ",") != "create web-1" {
		t.Errorf("pod actions with web-0 ready: %v", got)
	}
}

func TestParallelCreatesAll(t *testing.T) {
	set := webSet(3)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	f := newFixture(t, set)
	f.MustSync(f.c.sync, "default/web")
	if got := f.podActions(); len(got) != 3 {
		t.Errorf("pod actions %v, want 3 creates", got)
	}
}

func TestScaleDownDeletesHighestFirst(t *testing.T) {
	set := webSet(1)
	rev := revisionOf(t, set)
	f := newFixture(t, set, rev, statefulPod(set, 0, rev.Name, true), statefulPod(set, 1, rev.Name, true), statefulPod(set, 2, rev.Name, true))
	f.MustSync(f.c.sync, "default/web")
	if got := f.podActions(); strings.Join(got, ",") != "delete web-2" {
		t.Errorf("pod actions %v, want delete web-2", got)
	}
	if ev := f.events(); len(ev) != 1 || ev[0] != "Normal SuccessfulDelete Delete Pod web-2 in StatefulSet web successful" {
		t.Errorf("events %q", ev)
	}
}

func TestPartitionedRollingUpdate(t *testing.T) {
	set := webSet(3)
	old := revisionOf(t, set)
	pods := []runtime.Object{statefulPod(set, 0, old.Name, true), statefulPod(set, 1, old.Name, true), statefulPod(set, 2, old.Name, true)}
	set.Spec.Template.Spec.Containers[0].Image = "web:2"
	set.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](2)
	set.Status.CurrentRevision = old.Name
	f := newFixture(t, append(pods, set, old)...)
	f.MustSync(f.c.sync, "default/web")
	if got := f.podActions(); strings.Join(got, ",") != "delete web-2" {
		t.Fatalf("pod actions %v, want delete web-2", got)
	}
	got, _ := f.Client.AppsV1().StatefulSets("default").Get(f.Ctx, "web", metav1.GetOptions{})
	if s := got.Status; s.CurrentRevision != old.Name || s.UpdateRevision == old.Name || s.CurrentReplicas != 2 || s.UpdatedReplicas != 0 {
		t.Errorf("status %+v", s)
	}
	revs, _ := f.Client.AppsV1().ControllerRevisions("default").List(f.Ctx, metav1.ListOptions{})
	if len(revs.Items) != 2 {
		t.Errorf("%d revisions, want 2", len(revs.Items))
	}

	// web-2 recreated from the new revision: web-1 stays (below the partition).
	newRev := got.Status.UpdateRevision
	set2 := got.DeepCopy()
	var revObjs []runtime.Object
	for i := range revs.Items {
		revObjs = append(revObjs, &revs.Items[i])
	}
	f2 := newFixture(t, append(revObjs, set2, statefulPod(set, 0, old.Name, true), statefulPod(set, 1, old.Name, true), statefulPod(set2, 2, newRev, true))...)
	f2.MustSync(f2.c.sync, "default/web")
	if got := f2.podActions(); len(got) != 0 {
		t.Errorf("pod actions below the partition: %v", got)
	}
	s, _ := f2.Client.AppsV1().StatefulSets("default").Get(f2.Ctx, "web", metav1.GetOptions{})
	if s.Status.UpdatedReplicas != 1 || s.Status.CurrentReplicas != 2 || s.Status.ReadyReplicas != 3 {
		t.Errorf("status %+v", s.Status)
	}
}

func TestClaimTemplatesWithoutPVCsRecordFailedCreate(t *testing.T) {
	set := webSet(1)
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
	f := newFixture(t, set)
	notServed := apierrors.NewNotFound(schema.GroupResource{Resource: "persistentvolumeclaims"}, "")
	f.Client.PrependReactor("*", "persistentvolumeclaims", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, notServed
	})
	err := f.Sync(f.c.sync, "default/web")
	if err == nil || !strings.Contains(err.Error(), "failed to create PVC data-web-0") {
		t.Fatalf("sync: %v, want the PVC create error", err)
	}
	if got := f.podActions(); len(got) != 0 {
		t.Errorf("pod actions %v, want none", got)
	}
	ev := f.events()
	if len(ev) != 2 || !strings.HasPrefix(ev[0], "Warning FailedCreate Create Claim data-web-0 for Pod web-0 in StatefulSet web failed error: ") ||
		!strings.HasPrefix(ev[1], "Warning FailedCreate Create Pod web-0 in StatefulSet web failed error: ") {
		t.Errorf("events %q", ev)
	}
}

func TestFailedPodIsDeleted(t *testing.T) {
	set := webSet(1)
	rev := revisionOf(t, set)
	p := statefulPod(set, 0, rev.Name, false)
	p.Status.Phase = corev1.PodFailed
	f := newFixture(t, set, rev, p)
	f.MustSync(f.c.sync, "default/web")
	if got := f.podActions(); strings.Join(got, ",") != "delete web-0" {
		t.Errorf("pod actions %v, want delete web-0", got)
	}
}

func TestApplyRevisionRestoresTemplate(t *testing.T) {
	set := webSet(1)
	rev := revisionOf(t, set)
	changed := set.DeepCopy()
	changed.Spec.Template.Spec.Containers[0].Image = "web:2"
	back, err := applyRevision(changed, rev)
	if err != nil {
		t.Fatal(err)
	}
	if img := back.Spec.Template.Spec.Containers[0].Image; img != "web:1" {
		t.Errorf("image %q, want web:1", img)
	}
}
