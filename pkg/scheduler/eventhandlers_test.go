package scheduler

import (
	"testing"

	v1 "k8s.io/api/core/v1"

	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func pending(f *fixture) int {
	a, b, u := f.sched.queue.Pending()
	return a + b + u
}

func TestPodEventsRouteToQueueAndCache(t *testing.T) {
	f := newFixture(t, st.MakeNode("n").Obj())
	s := f.sched
	pod := st.MakePod("ns", "p").Obj()

	s.onPodAdd(pod)
	if pending(f) != 1 || s.cache.Has(pod) {
		t.Fatal("an unbound pod must be queued, not cached")
	}
	bound := pod.DeepCopy()
	bound.Spec.NodeName = "n"
	s.onPodUpdate(pod, bound)
	if pending(f) != 0 || !s.cache.Has(bound) {
		t.Fatal("a pod that got bound must leave the queue for the cache")
	}
	done := bound.DeepCopy()
	done.Status.Phase = v1.PodSucceeded
	s.onPodUpdate(bound, done)
	if s.cache.Has(done) {
		t.Fatal("a finished pod must leave the cache")
	}

	gated := st.MakePod("ns", "gated").Obj()
	gated.Spec.SchedulingGates = []v1.PodSchedulingGate{{Name: "example.com/wait"}}
	s.onPodAdd(gated)
	if pending(f) != 0 {
		t.Fatal("a gated pod was queued")
	}
	ungated := gated.DeepCopy()
	ungated.Spec.SchedulingGates = nil
	s.onPodUpdate(gated, ungated)
	if pending(f) != 1 {
		t.Fatal("removing the gates did not queue the pod")
	}
	s.onPodDelete(ungated)
	if pending(f) != 0 {
		t.Fatal("a deleted pod stayed queued")
	}

	s.onPodAdd(st.MakePod("ns", "other").SchedulerName("someone-else").Obj())
	s.onPodAdd(st.MakePod("ns", "deleting").Terminating().Obj())
	if pending(f) != 0 {
		t.Fatal("queued a pod of another scheduler or a terminating pod")
	}
}

func TestNodeSchedulingChanged(t *testing.T) {
	t.Parallel()
	base := st.MakeNode("n").Obj()
	heartbeat := base.DeepCopy()
	heartbeat.Status.Conditions = []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}
	tainted := base.DeepCopy()
	tainted.Spec.Taints = []v1.Taint{{Key: "k", Effect: v1.TaintEffectNoSchedule}}
	labelled := base.DeepCopy()
	labelled.Labels["x"] = "y"
	for name, tc := range map[string]struct {
		n    *v1.Node
		want bool
	}{"heartbeat": {heartbeat, false}, "taint": {tainted, true}, "label": {labelled, true}} {
		if got := nodeSchedulingChanged(base, tc.n); got != tc.want {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
}
