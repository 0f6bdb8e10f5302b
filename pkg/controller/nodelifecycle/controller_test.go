package nodelifecycle

import (
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// grace is the tests' --node-monitor-grace-period.
const grace = 40 * time.Second

type env struct {
	t      *testing.T
	f      *controllertest.Fixture
	c      *Controller
	events *record.FakeRecorder
}

// newEnv builds a controller over a fixture holding objects, with
// upstream's options but a grace period of 40 s unless opts is given.
func newEnv(t *testing.T, opts *Options, objects ...runtime.Object) *env {
	t.Helper()
	f := controllertest.New(t, objects...)
	events := record.NewFakeRecorder(100)
	o := DefaultOptions()
	o.NodeMonitorGracePeriod = grace
	if opts != nil {
		o = *opts
	}
	o.Recorder, o.Logger, o.Clock = events, f.Logger, f.Clock
	c, err := New(f.Client, f.Informers.Coordination().V1().Leases(), f.Informers.Core().V1().Nodes(),
		f.Informers.Core().V1().Pods(), o)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, f: f, c: c, events: events}
}

// readyNode is a node whose kubelet posted Ready=True at the epoch.
func readyNode(name string) *corev1.Node {
	at := metav1.NewTime(controllertest.Epoch())
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: s, LastHeartbeatTime: at, LastTransitionTime: at}
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), CreationTimestamp: at},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse), cond(corev1.NodeDiskPressure, corev1.ConditionFalse),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse), cond(corev1.NodeReady, corev1.ConditionTrue),
		}},
	}
}

func lease(name string, renewed time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: corev1.NamespaceNodeLease, Name: name},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name), RenewTime: &metav1.MicroTime{Time: renewed}}}
}

func readyPod(name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
}

func act(verb, resource, sub, ns, name string) controllertest.Action {
	return controllertest.Action{Verb: verb, Resource: resource, Subresource: sub, Namespace: ns, Name: name}
}

// node returns the API's node, and puts it into the informer's cache.
func (e *env) node(name string) *corev1.Node {
	e.t.Helper()
	obj, err := e.f.Client.Tracker().Get(corev1.SchemeGroupVersion.WithResource("nodes"), "", name)
	if err != nil {
		e.t.Fatal(err)
	}
	e.f.SeedCache(obj)
	return obj.(*corev1.Node)
}

// update writes obj to the API and the cache, as a kubelet would.
func (e *env) update(obj runtime.Object, gvr schema.GroupVersionResource, ns string) {
	e.t.Helper()
	if err := e.f.Client.Tracker().Update(gvr, obj, ns); err != nil {
		e.t.Fatal(err)
	}
	e.f.SeedCache(obj)
}

func (e *env) monitor() {
	e.t.Helper()
	if err := e.c.monitorNodeHealth(e.f.Ctx); err != nil {
		e.t.Fatal(err)
	}
}

// expectEvents fails unless the recorded events are want, in order
// ("<type> <reason> <message>").
func (e *env) expectEvents(want ...string) {
	e.t.Helper()
	var got []string
	for {
		select {
		case ev := <-e.events.Events:
			got = append(got, ev)
			continue
		default:
		}
		break
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		e.t.Errorf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func taintKeys(n *corev1.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	return out
}

// TestUnreachableNodeLifecycle: a node whose lease stops being renewed
// goes Unknown after the grace period, its pods are marked not ready, it
// gets the unreachable NoExecute (rate-limited pass) and NoSchedule (node
// sync) taints, and loses them when its kubelet posts Ready again. A node
// whose kubelet only renews its lease stays healthy.
func TestUnreachableNodeLifecycle(t *testing.T) {
	start := controllertest.Epoch()
	e := newEnv(t, nil, readyNode("a"), readyNode("b"), lease("a", start), lease("b", start), readyPod("web", "a"))
	e.monitor()
	e.f.ExpectActions()
	e.expectEvents("Normal RegisteredNode Node a event: Registered Node a in Controller",
		"Normal RegisteredNode Node b event: Registered Node b in Controller")

	// b's kubelet renews its lease; a's is silent.
	e.f.Clock.Step(30 * time.Second)
	e.update(lease("b", e.f.Clock.Now()), coordinationv1.SchemeGroupVersion.WithResource("leases"), corev1.NamespaceNodeLease)
	e.monitor()
	e.f.ExpectActions()
	e.f.Clock.Step(grace - 30*time.Second + time.Second)
	e.monitor()
	e.f.ExpectActions(getLease("a"), act("update", "nodes", "status", "", "a"), act("update", "pods", "status", "default", "web"))
	e.expectEvents("Normal NodeNotReady Node a status is now: NodeNotReady", "Warning NodeNotReady Node is not ready")

	a := e.node("a")
	for _, c := range a.Status.Conditions {
		if c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusUnknown" || c.Message != "Kubelet stopped posting node status." ||
			!c.LastTransitionTime.Time.Equal(e.f.Clock.Now()) {
			t.Errorf("condition %+v, want Unknown since now", c)
		}
	}
	pod := controllertest.Find[*corev1.Pod](e.f, act("update", "pods", "status", "default", "web"))
	if c := pod.Status.Conditions[1]; c.Type != corev1.PodReady || c.Status != corev1.ConditionFalse {
		t.Errorf("pod condition %+v, want Ready=False", c)
	}

	// The NoExecute taint, from the zone's queue.
	e.f.ClearActions()
	e.c.noExecuteTaintingPass(e.f.Ctx)
	e.f.ExpectActions(act("get", "nodes", "", "", "a"), act("patch", "nodes", "", "", "a"))
	a = e.node("a")
	if got := taintKeys(a); len(got) != 1 || got[0] != "node.kubernetes.io/unreachable:NoExecute" ||
		!a.Spec.Taints[0].TimeAdded.Time.Equal(e.f.Clock.Now()) {
		t.Fatalf("taints %+v, want unreachable:NoExecute added now", a.Spec.Taints)
	}
	// The NoSchedule taint, from the node's sync.
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "a")
	e.f.ExpectActions(act("get", "nodes", "", "", "a"), act("patch", "nodes", "", "", "a"))
	a = e.node("a")
	if got := strings.Join(taintKeys(a), ","); got != "node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/unreachable:NoSchedule" {
		t.Fatalf("taints %s", got)
	}
	// Passes change nothing more (the live Lease is checked each pass).
	e.f.ClearActions()
	e.monitor()
	e.c.noExecuteTaintingPass(e.f.Ctx)
	e.f.MustSync(e.c.sync, "a")
	e.f.ExpectActions(getLease("a"))
	e.expectEvents()

	// a's kubelet is back: Ready=True with a new heartbeat.
	e.f.Clock.Step(5 * time.Second)
	back := a.DeepCopy()
	back.Status = readyNode("a").Status
	for i := range back.Status.Conditions {
		back.Status.Conditions[i].LastHeartbeatTime = metav1.NewTime(e.f.Clock.Now())
	}
	e.update(back, corev1.SchemeGroupVersion.WithResource("nodes"), "")
	e.f.ClearActions()
	e.monitor()
	e.f.ExpectActions(act("get", "nodes", "", "", "a"), act("patch", "nodes", "", "", "a"))
	e.node("a")
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "a")
	e.f.ExpectActions(act("get", "nodes", "", "", "a"), act("patch", "nodes", "", "", "a"))
	if got := taintKeys(e.node("a")); len(got) != 0 {
		t.Errorf("taints %v after the node came back, want none", got)
	}

	// b is deleted: the controller forgets it.
	if err := e.f.Informers.Core().V1().Nodes().Informer().GetIndexer().Delete(readyNode("b")); err != nil {
		t.Fatal(err)
	}
	e.f.ClearActions()
	e.monitor()
	e.f.ExpectActions()
	e.expectEvents("Normal RemovingNode Node b event: Removing Node b from Controller")
	if e.c.health.get("b") != nil {
		t.Error("the deleted node's health is still kept")
	}
}

func getLease(name string) controllertest.Action {
	return controllertest.Action{Verb: "get", Resource: "leases", Namespace: corev1.NamespaceNodeLease, Name: name}
}

// TestStaleLeaseCache: a Lease renewed in the API but not yet in the
// informer's cache keeps the node from being marked Unknown (upstream's
// NodeControllerLeaseCircuitBreaker); once the cache has it, the node is
// healthy.
func TestStaleLeaseCache(t *testing.T) {
	start := controllertest.Epoch()
	a := lease("a", start)
	a.ResourceVersion = "1"
	e := newEnv(t, nil, readyNode("a"), a, readyNode("b"), lease("b", start))
	e.monitor()
	e.f.Clock.Step(grace + time.Second)
	renewed := lease("a", e.f.Clock.Now())
	renewed.ResourceVersion = "2"
	if err := e.f.Client.Tracker().Update(coordinationv1.SchemeGroupVersion.WithResource("leases"), renewed, corev1.NamespaceNodeLease); err != nil {
		t.Fatal(err)
	}
	e.f.SeedCache(lease("b", e.f.Clock.Now()))
	e.f.ClearActions()
	e.monitor()
	e.f.ExpectActions(getLease("a"))
	e.f.SeedCache(renewed)
	e.f.ClearActions()
	e.monitor()
	e.f.ExpectActions()
}

// TestNeverPostedNode: a node that never posted status gets the startup
// grace period from its creation, then the four conditions Unknown with
// NodeStatusNeverUpdated.
func TestNeverPostedNode(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "new", UID: "uid-new", CreationTimestamp: metav1.NewTime(controllertest.Epoch())}}
	e := newEnv(t, nil, n, readyNode("ok"), lease("ok", controllertest.Epoch()))
	e.f.Clock.Step(DefaultNodeStartupGracePeriod - time.Second)
	e.f.SeedCache(lease("ok", e.f.Clock.Now()))
	e.monitor()
	e.f.ExpectActions()
	e.f.Clock.Step(2 * time.Second)
	e.monitor()
	e.f.ExpectActions(getLease("new"), act("update", "nodes", "status", "", "new"))
	got := e.node("new").Status.Conditions
	if len(got) != 4 {
		t.Fatalf("conditions %+v, want four", got)
	}
	for _, c := range got {
		if c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusNeverUpdated" || c.Message != "Kubelet never posted node status." {
			t.Errorf("condition %+v", c)
		}
	}
	e.c.noExecuteTaintingPass(e.f.Ctx)
	if got := taintKeys(e.node("new")); len(got) != 1 || got[0] != "node.kubernetes.io/unreachable:NoExecute" {
		t.Errorf("taints %v", got)
	}
}

// TestNotReadyNode: a kubelet that posts Ready=False gets the not-ready
// NoExecute taint; when it then goes silent, the taint is swapped for
// unreachable at once.
func TestNotReadyNode(t *testing.T) {
	sick := readyNode("sick")
	sick.Status.Conditions[3].Status = corev1.ConditionFalse
	start := controllertest.Epoch()
	e := newEnv(t, nil, sick, lease("sick", start), readyNode("ok"), lease("ok", start))
	e.monitor()
	e.c.noExecuteTaintingPass(e.f.Ctx)
	if got := taintKeys(e.node("sick")); len(got) != 1 || got[0] != "node.kubernetes.io/not-ready:NoExecute" {
		t.Fatalf("taints %v, want not-ready:NoExecute", got)
	}
	e.f.Clock.Step(grace + time.Second)
	e.f.SeedCache(lease("ok", e.f.Clock.Now()))
	e.monitor() // Unknown
	e.node("sick")
	e.monitor() // swap
	if got := taintKeys(e.node("sick")); len(got) != 1 || got[0] != "node.kubernetes.io/unreachable:NoExecute" {
		t.Errorf("taints %v, want unreachable:NoExecute", got)
	}
}

// silentNodes returns n ready nodes with leases at the epoch, the first
// silent ones named s0…, the others (renewed by renew) r0….
func silentNodes(silent, renewed int) (objs []runtime.Object, names []string) {
	add := func(prefix string, n int) {
		for i := range n {
			name := prefix + string(rune('0'+i))
			objs = append(objs, readyNode(name), lease(name, controllertest.Epoch()))
			names = append(names, name)
		}
	}
	add("s", silent)
	add("r", renewed)
	return objs, names
}

func (e *env) renew(names []string) {
	for _, n := range names {
		if strings.HasPrefix(n, "r") {
			e.f.SeedCache(lease(n, e.f.Clock.Now()))
		}
	}
}

func (e *env) tainted(names []string) int {
	n := 0
	for _, name := range names {
		if len(e.node(name).Spec.Taints) > 0 {
			n++
		}
	}
	return n
}

// TestZoneRates: --node-eviction-rate paces the NoExecute taints of a
// healthy zone; an unhealthy zone of a small cluster stops them; a zone
// with no Ready node while it is the only zone stops them too and takes
// them off.
func TestZoneRates(t *testing.T) {
	t.Run("normal", func(t *testing.T) {
		objs, names := silentNodes(2, 2)
		e := newEnv(t, nil, objs...)
		e.monitor()
		e.f.Clock.Step(grace + time.Second)
		e.renew(names)
		e.monitor()
		for _, n := range names {
			e.node(n)
		}
		e.c.noExecuteTaintingPass(e.f.Ctx)
		e.c.noExecuteTaintingPass(e.f.Ctx)
		if got := e.tainted(names); got != 1 {
			t.Fatalf("%d nodes tainted at once, want 1 (0.1 per second)", got)
		}
		e.f.Clock.Step(9 * time.Second)
		e.c.noExecuteTaintingPass(e.f.Ctx)
		if got := e.tainted(names); got != 1 {
			t.Fatalf("%d nodes tainted after 9s, want 1", got)
		}
		e.f.Clock.Step(time.Second)
		e.c.noExecuteTaintingPass(e.f.Ctx)
		if got := e.tainted(names); got != 2 {
			t.Fatalf("%d nodes tainted after 10s, want 2", got)
		}
	})
	t.Run("partial disruption of a small cluster", func(t *testing.T) {
		objs, names := silentNodes(3, 2) // 3/5 >= 0.55
		e := newEnv(t, nil, objs...)
		e.monitor()
		e.f.Clock.Step(grace + time.Second)
		e.renew(names)
		e.monitor()
		e.f.Clock.Step(time.Minute)
		e.c.noExecuteTaintingPass(e.f.Ctx)
		if got := e.tainted(names); got != 0 {
			t.Fatalf("%d nodes tainted, want none", got)
		}
		if s := e.c.zoneStates[""]; s != statePartialDisruption {
			t.Errorf("zone state %s", s)
		}
	})
	t.Run("partial disruption of a large cluster", func(t *testing.T) {
		objs, names := silentNodes(3, 2)
		o := DefaultOptions()
		o.NodeMonitorGracePeriod, o.LargeClusterSizeThreshold, o.SecondaryNodeEvictionRate = grace, 4, 1
		e := newEnv(t, &o, objs...)
		e.monitor()
		e.f.Clock.Step(grace + time.Second)
		e.renew(names)
		e.monitor()
		for _, n := range names {
			e.node(n)
		}
		e.c.noExecuteTaintingPass(e.f.Ctx)
		if got := e.tainted(names); got != 1 {
			t.Fatalf("%d nodes tainted at once, want 1", got)
		}
		e.f.Clock.Step(time.Second)
		e.c.noExecuteTaintingPass(e.f.Ctx)
		if got := e.tainted(names); got != 2 {
			t.Fatalf("%d nodes tainted after 1s at 1/s, want 2", got)
		}
	})
	t.Run("full disruption", func(t *testing.T) {
		lone := readyNode("s0")
		lone.Spec.Taints = []corev1.Taint{unreachableTaint, {Key: "user", Effect: corev1.TaintEffectNoExecute}}
		e := newEnv(t, nil, lone, lease("s0", controllertest.Epoch()))
		e.monitor() // a new node loses the controller's NoExecute taints
		if got := taintKeys(e.node("s0")); len(got) != 1 || got[0] != "user:NoExecute" {
			t.Fatalf("taints %v, want the user's only", got)
		}
		e.f.Clock.Step(grace + time.Second)
		e.monitor()
		e.node("s0")
		e.f.Clock.Step(time.Minute)
		e.c.noExecuteTaintingPass(e.f.Ctx)
		if got := taintKeys(e.node("s0")); len(got) != 1 {
			t.Errorf("taints %v: evictions must stop when every node is down", got)
		}
		if s := e.c.zoneStates[""]; s != stateFullDisruption {
			t.Errorf("zone state %s", s)
		}
	})
}

// TestNoScheduleTaints: the NoSchedule taints follow the conditions and
// spec.unschedulable; other taints are kept.
func TestNoScheduleTaints(t *testing.T) {
	n := readyNode("n")
	n.Spec.Unschedulable = true
	n.Status.Conditions[0].Status = corev1.ConditionTrue // MemoryPressure
	n.Spec.Taints = []corev1.Taint{
		{Key: corev1.TaintNodeDiskPressure, Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute},
	}
	e := newEnv(t, nil, n)
	e.f.MustSync(e.c.sync, "n")
	got := strings.Join(taintKeys(e.node("n")), ",")
	want := "dedicated:NoSchedule,node.kubernetes.io/unreachable:NoExecute,node.kubernetes.io/memory-pressure:NoSchedule,node.kubernetes.io/unschedulable:NoSchedule"
	if got != want {
		t.Errorf("taints\n %s\nwant\n %s", got, want)
	}
	e.f.ClearActions()
	e.f.MustSync(e.c.sync, "n")
	e.f.MustSync(e.c.sync, "gone")
	e.f.ExpectActions()
}

// TestBetaLabels: the beta os/arch labels follow the stable ones.
func TestBetaLabels(t *testing.T) {
	n := readyNode("n")
	n.Labels = map[string]string{corev1.LabelOSStable: "linux", corev1.LabelArchStable: "arm64", "beta.kubernetes.io/arch": "amd64"}
	e := newEnv(t, nil, n)
	e.f.MustSync(e.c.sync, "n")
	e.f.ExpectActions(act("get", "nodes", "", "", "n"), act("update", "nodes", "", "", "n"))
	l := e.node("n").Labels
	if l["beta.kubernetes.io/os"] != "linux" || l["beta.kubernetes.io/arch"] != "arm64" {
		t.Errorf("labels %v", l)
	}
}

// TestPodBoundToNotReadyNode: a pod bound to a node last seen not Ready is
// marked not ready by its own sync; one on a Ready node, or an unknown
// one, is not.
func TestPodBoundToNotReadyNode(t *testing.T) {
	start := controllertest.Epoch()
	e := newEnv(t, nil, readyNode("down"), lease("down", start), readyNode("up"), lease("up", start))
	e.monitor()
	e.f.Clock.Step(grace + time.Second)
	e.f.SeedCache(lease("up", e.f.Clock.Now()))
	e.monitor()
	e.node("down")
	e.f.Seed(readyPod("late", "down"), readyPod("fine", "up"), readyPod("nowhere", "other"))
	e.f.ClearActions()
	for _, k := range []string{"default/late", "default/fine", "default/nowhere", "default/missing"} {
		e.f.MustSync(e.c.sync, k)
	}
	e.f.ExpectActions(act("update", "pods", "status", "default", "late"))
}

// TestValidate names the flags at fault.
func TestValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.NodeMonitorPeriod, o.NodeMonitorGracePeriod = time.Minute, time.Minute
	o.NodeStartupGracePeriod = 0
	o.NodeEvictionRate, o.SecondaryNodeEvictionRate = -1, -1
	o.LargeClusterSizeThreshold, o.UnhealthyZoneThreshold = -1, 1.5
	err := o.Validate()
	for _, flag := range []string{"--node-monitor-period", "--node-startup-grace-period", "--node-eviction-rate",
		"--secondary-node-eviction-rate", "--large-cluster-size-threshold", "--unhealthy-zone-threshold"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("error %v does not name %s", err, flag)
		}
	}
}
