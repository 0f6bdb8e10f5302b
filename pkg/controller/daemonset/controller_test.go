package daemonset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

func node(name string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec: corev1.NodeSpec{Taints: taints}}
}

func daemonSet() *appsv1.DaemonSet {
	l := map[string]string{"app": "agent"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds-uid", Generation: 1,
			Annotations: map[string]string{TemplateGenerationAnnotation: "1"}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: l},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "agent:1"}}}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(1)), MaxSurge: ptr.To(intstr.FromInt32(0))}},
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
	apps, core := f.Informers.Apps().V1(), f.Informers.Core().V1()
	c, err := New(f.Client, apps.DaemonSets(), apps.ControllerRevisions(), core.Pods(), core.Nodes(),
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

// createdPods returns the pods the sync created, by target node.
func (f *fixture) createdPods() map[string]*corev1.Pod {
	out := map[string]*corev1.Pod{}
	for _, a := range f.Actions() {
		d := controllertest.Describe(a)
		if d.Verb == "create" && d.Resource == "pods" {
			p := controllertest.ObjectOf[*corev1.Pod](f.T, a)
			n, err := targetNodeName(p)
			if err != nil {
				f.T.Fatal(err)
			}
			out[n] = p
		}
	}
	return out
}

func TestSyncCreatesOnePodPerEligibleNode(t *testing.T) {
	ds := daemonSet()
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	linux := func(n *corev1.Node) *corev1.Node { n.Labels["kubernetes.io/os"] = "linux"; return n }
	f := newFixture(t, ds,
		linux(node("a")),
		linux(node("b", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})),
		linux(node("c", corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute})),
		node("d"))
	f.MustSync(f.c.sync, "default/agent")
	pods := f.createdPods()
	if len(pods) != 2 || pods["a"] == nil || pods["c"] == nil {
		t.Fatalf("created pods for nodes %v, want a and c", keys(pods))
	}
	p := pods["a"]
	if p.GenerateName != "agent-" || p.Spec.NodeName != "" {
		t.Errorf("pod generateName %q nodeName %q, want agent- and unbound", p.GenerateName, p.Spec.NodeName)
	}
	if p.Labels[TemplateGenerationLabel] != "1" || p.Labels[HashLabel] == "" {
		t.Errorf("pod labels %v lack the generation or hash", p.Labels)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != ds.UID || ref.Kind != "DaemonSet" {
		t.Errorf("controller ref %v", ref)
	}
	want := map[string]corev1.TaintEffect{corev1.TaintNodeNotReady: corev1.TaintEffectNoExecute, corev1.TaintNodeUnreachable: corev1.TaintEffectNoExecute,
		corev1.TaintNodeDiskPressure: corev1.TaintEffectNoSchedule, corev1.TaintNodeMemoryPressure: corev1.TaintEffectNoSchedule,
		corev1.TaintNodePIDPressure: corev1.TaintEffectNoSchedule, corev1.TaintNodeUnschedulable: corev1.TaintEffectNoSchedule}
	if len(p.Spec.Tolerations) != len(want) {
		t.Errorf("tolerations %v, want %v", p.Spec.Tolerations, want)
	}
	for _, tol := range p.Spec.Tolerations {
		if want[tol.Key] != tol.Effect || tol.Operator != corev1.TolerationOpExists {
			t.Errorf("unexpected toleration %+v", tol)
		}
	}
	revs, _ := f.Client.AppsV1().ControllerRevisions("default").List(f.Ctx, metav1.ListOptions{})
	if len(revs.Items) != 1 || revs.Items[0].Revision != 1 || revs.Items[0].Name != "agent-"+p.Labels[HashLabel] {
		t.Fatalf("revisions %+v", revs.Items)
	}
	got, _ := f.Client.AppsV1().DaemonSets("default").Get(f.Ctx, "agent", metav1.GetOptions{})
	if s := got.Status; s.DesiredNumberScheduled != 2 || s.CurrentNumberScheduled != 0 || s.NumberUnavailable != 2 || s.ObservedGeneration != 1 {
		t.Errorf("status %+v", s)
	}
	if ev := f.events(); len(ev) != 2 || ev[0][:len("Normal SuccessfulCreate Created pod: agent-")] != "Normal SuccessfulCreate Created pod: agent-" {
		t.Errorf("events %q", ev)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func daemonPod(ds *appsv1.DaemonSet, name, nodeName, hash string, ready bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ds.Namespace, UID: types.UID(name + "-uid"),
		Labels:          map[string]string{"app": "agent", HashLabel: hash},
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ds, Kind)}},
		Spec:   corev1.PodSpec{NodeName: nodeName},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	if ready {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	}
	return p
}

func TestSyncDeletesExcessMisplacedAndFailedPods(t *testing.T) {
	ds := daemonSet()
	hash := currentHash(t, ds)
	failed := daemonPod(ds, "agent-failed", "a", hash, false)
	failed.Status.Phase = corev1.PodFailed
	f := newFixture(t, ds, node("a"), node("b"),
		node("c", corev1.Taint{Key: "evict", Effect: corev1.TaintEffectNoExecute}),
		failed,
		daemonPod(ds, "agent-b1", "b", hash, true), daemonPod(ds, "agent-b2", "b", hash, true),
		daemonPod(ds, "agent-c", "c", hash, true))
	f.MustSync(f.c.sync, "default/agent")
	deleted := map[string]bool{}
	for _, a := range f.Actions() {
		if d := controllertest.Describe(a); d.Verb == "delete" && d.Resource == "pods" {
			deleted[d.Name] = true
		}
	}
	// b2 is the younger duplicate (same creation time: by name).
	if len(deleted) != 3 || !deleted["agent-failed"] || !deleted["agent-b2"] || !deleted["agent-c"] {
		t.Errorf("deleted %v, want agent-failed, agent-b2, agent-c", deleted)
	}
	found := false
	for _, e := range f.events() {
		if e == "Warning FailedDaemonPod Found failed daemon pod default/agent-failed on node a, will try to kill it" {
			found = true
		}
	}
	if !found {
		t.Error("no FailedDaemonPod event")
	}
	// Within the backoff, the next failed pod on a is left alone.
	f.ClearActions()
	f.c.expectations.forget("default/agent")
	failed2 := failed.DeepCopy()
	failed2.Name, failed2.UID = "agent-failed2", "f2"
	f.Seed(failed2)
	_ = f.Informers.Core().V1().Pods().Informer().GetIndexer().Delete(failed)
	f.MustSync(f.c.sync, "default/agent")
	for _, a := range f.Actions() {
		if d := controllertest.Describe(a); d.Verb == "delete" && d.Name == "agent-failed2" {
			t.Error("failed pod deleted again within its backoff")
		}
	}
}

// currentHash is the hash the controller gives ds's current template.
func currentHash(t *testing.T, ds *appsv1.DaemonSet) string {
	t.Helper()
	f := newFixture(t, ds)
	rev, _, err := f.c.constructHistory(f.Ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	return rev.Labels[HashLabel]
}

func TestRollingUpdateDeletesWithinMaxUnavailable(t *testing.T) {
	ds := daemonSet()
	oldHash := currentHash(t, ds)
	ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
	ds.Generation = 2
	f := newFixture(t, ds, node("a"), node("b"), node("c"),
		daemonPod(ds, "agent-a", "a", oldHash, true), daemonPod(ds, "agent-b", "b", oldHash, true), daemonPod(ds, "agent-c", "c", oldHash, true))
	f.MustSync(f.c.sync, "default/agent")
	var deletes int
	for _, a := range f.Actions() {
		if d := controllertest.Describe(a); d.Verb == "delete" && d.Resource == "pods" {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("%d pods deleted, want 1 (maxUnavailable)", deletes)
	}
	got, _ := f.Client.AppsV1().DaemonSets("default").Get(f.Ctx, "agent", metav1.GetOptions{})
	if s := got.Status; s.UpdatedNumberScheduled != 0 || s.DesiredNumberScheduled != 3 || s.NumberAvailable != 3 {
		t.Errorf("status %+v", s)
	}
}

func TestRollingUpdateWithSurgeCreatesNextToOld(t *testing.T) {
	ds := daemonSet()
	oldHash := currentHash(t, ds)
	ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
	ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromInt32(1))}
	f := newFixture(t, ds, node("a"), node("b"),
		daemonPod(ds, "agent-a", "a", oldHash, true), daemonPod(ds, "agent-b", "b", oldHash, true))
	f.MustSync(f.c.sync, "default/agent")
	if n := len(f.createdPods()); n != 1 {
		t.Errorf("%d pods created, want 1 (maxSurge)", n)
	}
	for _, a := range f.Actions() {
		if d := controllertest.Describe(a); d.Verb == "delete" && d.Resource == "pods" {
			t.Errorf("unexpected %s", d)
		}
	}
}

func TestOnDeleteLeavesOldPods(t *testing.T) {
	ds := daemonSet()
	oldHash := currentHash(t, ds)
	ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	f := newFixture(t, ds, node("a"), daemonPod(ds, "agent-a", "a", oldHash, true))
	f.MustSync(f.c.sync, "default/agent")
	for _, a := range f.Actions() {
		if d := controllertest.Describe(a); d.Resource == "pods" {
			t.Errorf("unexpected %s", d)
		}
	}
}

func TestEmptySelectorRecordsSelectingAll(t *testing.T) {
	ds := daemonSet()
	ds.Spec.Selector = &metav1.LabelSelector{}
	f := newFixture(t, ds, node("a"))
	f.MustSync(f.c.sync, "default/agent")
	f.ExpectActions()
	if ev := f.events(); len(ev) != 1 || ev[0] != "Warning SelectingAll This daemon set is selecting all pods. A non-empty selector is required." {
		t.Errorf("events %q", ev)
	}
}

func TestPatchIsUpstreams(t *testing.T) {
	ds := daemonSet()
	p, err := Patch(ds)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"image":"agent:1","name":"c","resources":{}}]}}}}`
	if string(p) != want {
		t.Errorf("patch\n%s\nwant\n%s", p, want)
	}
}
