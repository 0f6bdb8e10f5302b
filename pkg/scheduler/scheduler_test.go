package scheduler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/scheduler/config"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

type res = map[v1.ResourceName]string

// fixture is a scheduler on a fake clientset whose informers are synced;
// tests call scheduleOne directly.
type fixture struct {
	t        testing.TB
	client   *fake.Clientset
	sched    *Scheduler
	recorder *record.FakeRecorder
	bindErr  error
}

func newFixture(t testing.TB, objs ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{t: t, client: fake.NewClientset(objs...), recorder: record.NewFakeRecorder(100)}
	f.client.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "binding" {
			return false, nil, nil
		}
		return true, nil, f.bindErr
	})
	factory := informers.NewSharedInformerFactory(f.client, 0)
	p, err := config.Resolve(&config.Default().Profiles[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	f.sched, err = New(Config{Client: f.client, InformerFactory: factory, Profiles: []framework.ProfileConfig{p}, Recorder: f.recorder})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	if !f.sched.WaitForCacheSync(ctx) {
		t.Fatal("informers did not sync")
	}
	return f
}

// scheduleOne runs one cycle and waits for its binding to finish.
func (f *fixture) scheduleOne() {
	f.t.Helper()
	f.sched.scheduleOne(context.Background())
	for i := 0; i < cap(f.sched.bindSem); i++ {
		f.sched.bindSem <- struct{}{}
	}
	for i := 0; i < cap(f.sched.bindSem); i++ {
		<-f.sched.bindSem
	}
}

func (f *fixture) bindings() []string {
	var out []string
	for _, a := range f.client.Actions() {
		if c, ok := a.(clienttesting.CreateAction); ok && a.GetSubresource() == "binding" {
			b := c.GetObject().(*v1.Binding)
			out = append(out, b.Name+"->"+b.Target.Name)
		}
	}
	return out
}

func (f *fixture) event() string {
	select {
	case e := <-f.recorder.Events:
		return e
	case <-time.After(time.Second):
		return ""
	}
}

func TestScheduleOneBindsWhereItFits(t *testing.T) {
	f := newFixture(t,
		st.MakeNode("small").Capacity(res{v1.ResourceCPU: "1"}).Obj(),
		st.MakeNode("big").Capacity(res{v1.ResourceCPU: "8"}).Obj(),
		st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "2"}).Obj())
	f.scheduleOne()
	if got := f.bindings(); len(got) != 1 || got[0] != "p->big" {
		t.Fatalf("bindings %v, want [p->big]", got)
	}
	if e := f.event(); e != "Normal Scheduled Successfully assigned ns/p to big" {
		t.Fatalf("event %q", e)
	}
	if !f.sched.cache.IsAssumedPod(st.MakePod("ns", "p").Obj()) {
		t.Fatal("pod not assumed in the cache")
	}
}

func TestScheduleOneUnschedulable(t *testing.T) {
	f := newFixture(t,
		st.MakeNode("cp").Taint("node-role.kubernetes.io/control-plane", "", v1.TaintEffectNoSchedule).Obj(),
		st.MakeNode("w1").Capacity(res{v1.ResourceCPU: "1"}).Obj(),
		st.MakeNode("w2").Capacity(res{v1.ResourceCPU: "1"}).Obj(),
		st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "2"}).Obj())
	f.scheduleOne()
	if got := f.bindings(); len(got) != 0 {
		t.Fatalf("bindings %v, want none", got)
	}
	want := "Warning FailedScheduling 0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, " +
		"2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.."
	if e := f.event(); e != want {
		t.Fatalf("event\n %q\nwant\n %q", e, want)
	}
	var patched bool
	for _, a := range f.client.Actions() {
		if p, ok := a.(clienttesting.PatchAction); ok && a.GetSubresource() == "status" {
			patched = strings.Contains(string(p.GetPatch()), `"reason":"Unschedulable"`) && strings.Contains(string(p.GetPatch()), `"status":"False"`)
		}
	}
	if !patched {
		t.Fatal("no PodScheduled=False/Unschedulable status patch")
	}
	if _, _, u := f.sched.queue.Pending(); u != 1 {
		t.Fatalf("%d unschedulable pods queued, want 1", u)
	}
}

func TestBindFailureForgetsThePod(t *testing.T) {
	f := newFixture(t, st.MakeNode("n").Obj(), st.MakePod("ns", "p").Obj())
	f.bindErr = errors.New("boom")
	f.scheduleOne()
	if f.sched.cache.Has(st.MakePod("ns", "p").Obj()) {
		t.Fatal("a pod whose binding failed is still in the cache")
	}
	if _, b, _ := f.sched.queue.Pending(); b != 1 {
		t.Fatalf("%d pods in backoff, want 1", b)
	}
	if e := f.event(); !strings.Contains(e, "FailedScheduling") || !strings.Contains(e, "boom") {
		t.Fatalf("event %q", e)
	}
}

func TestOtherSchedulersPodsAreIgnored(t *testing.T) {
	f := newFixture(t, st.MakeNode("n").Obj(), st.MakePod("ns", "p").SchedulerName("other").Obj())
	if a, b, u := f.sched.queue.Pending(); a+b+u != 0 {
		t.Fatal("a pod for another scheduler was queued")
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		percentage int32
		nodes      int
		want       int
	}{
		{0, 10, 10}, {0, 99, 99}, {0, 200, 100}, {0, 1000, 420}, {0, 6000, 300}, {50, 1000, 500}, {10, 200, 100},
	}
	for _, tt := range tests {
		if got := numFeasibleNodesToFind(tt.percentage, tt.nodes); got != tt.want {
			t.Errorf("numFeasibleNodesToFind(%d, %d) = %d, want %d", tt.percentage, tt.nodes, got, tt.want)
		}
	}
}

func TestSelectHostBreaksTiesAtRandom(t *testing.T) {
	f := newFixture(t)
	scores := framework.NodeScoreList{{Name: "a", Score: 10}, {Name: "b", Score: 30}, {Name: "c", Score: 30}, {Name: "d", Score: 5}}
	seen := map[string]int{}
	for i := 0; i < 200; i++ {
		seen[f.sched.selectHost(scores)]++
	}
	if seen["a"]+seen["d"] != 0 || seen["b"] < 50 || seen["c"] < 50 {
		t.Fatalf("picks %v: want only b and c, about evenly", seen)
	}
}

func TestPreemptionMessage(t *testing.T) {
	never := v1.PreemptNever
	tests := []struct {
		name string
		pod  *v1.Pod
		want string
	}{
		{"no lower-priority pods", st.MakePod("ns", "p").Priority(10).Req(res{v1.ResourceCPU: "2"}).Obj(),
			"0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {t: }. " +
				"preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.."},
		{"lower-priority pods", st.MakePod("ns", "p").Priority(1000).Req(res{v1.ResourceCPU: "2"}).Obj(),
			"0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {t: }. " +
				"preemption: 0/2 nodes are available: 1 Preemption is not helpful for scheduling, 1 kinc's scheduler does not preempt lower-priority pods.."},
		{"preemptionPolicy Never", func() *v1.Pod {
			p := st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "2"}).Obj()
			p.Spec.PreemptionPolicy = &never
			return p
		}(), "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {t: }. preemption: not eligible due to preemptionPolicy=Never.."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t,
				st.MakeNode("tainted").Taint("t", "", v1.TaintEffectNoSchedule).Obj(),
				st.MakeNode("full").Capacity(res{v1.ResourceCPU: "1"}).Obj(),
				st.MakePod("ns", "existing").Priority(100).Node("full").Obj(),
				tt.pod)
			f.scheduleOne()
			if e := f.event(); e != "Warning FailedScheduling "+tt.want {
				t.Fatalf("event\n %q\nwant\n %q", e, "Warning FailedScheduling "+tt.want)
			}
		})
	}
}
