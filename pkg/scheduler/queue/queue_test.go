package queue

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	testingclock "k8s.io/utils/clock/testing"

	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func newQueue() (*PriorityQueue, *testingclock.FakeClock) {
	clk := testingclock.NewFakeClock(time.Unix(1_000_000, 0))
	return New(clk, Options{}), clk
}

func pop(t *testing.T, q *PriorityQueue) *QueuedPodInfo {
	t.Helper()
	done := make(chan *QueuedPodInfo, 1)
	go func() {
		p, _ := q.Pop()
		done <- p
	}()
	select {
	case p := <-done:
		return p
	case <-time.After(2 * time.Second):
		t.Fatal("Pop blocked")
		return nil
	}
}

func TestPopOrdersByPriorityThenArrival(t *testing.T) {
	t.Parallel()
	q, clk := newQueue()
	for _, p := range []*v1.Pod{
		st.MakePod("ns", "low-early").Priority(1).Obj(),
		st.MakePod("ns", "none").Obj(),
		st.MakePod("ns", "high").Priority(100).Obj(),
		st.MakePod("ns", "low-late").Priority(1).Obj(),
	} {
		q.Add(p)
		clk.Step(time.Millisecond)
	}
	for _, want := range []string{"high", "low-early", "low-late", "none"} {
		if got := pop(t, q).Pod.Name; got != want {
			t.Fatalf("popped %s, want %s", got, want)
		}
	}
}

func TestAddIsStingy(t *testing.T) {
	t.Parallel()
	q, _ := newQueue()
	p := st.MakePod("ns", "p").Obj()
	q.Add(p)
	q.Add(p)
	q.Update(p, p)
	if a, b, u := q.Pending(); a != 1 || b != 0 || u != 0 {
		t.Fatalf("pending = %d/%d/%d, want 1/0/0", a, b, u)
	}
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	t.Parallel()
	q, _ := newQueue()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i, w := range want {
		if got := q.backoffDuration(&QueuedPodInfo{Attempts: i + 1}); got != w {
			t.Errorf("attempt %d: backoff %v, want %v", i+1, got, w)
		}
	}
}

func TestUnschedulableWaitsForAMove(t *testing.T) {
	t.Parallel()
	q, clk := newQueue()
	q.Add(st.MakePod("ns", "p").Obj())
	p := pop(t, q)
	cycle := q.SchedulingCycle()
	q.AddUnschedulableIfNotPresent(p, cycle)
	if _, _, u := q.Pending(); u != 1 {
		t.Fatalf("unschedulable = %d, want 1", u)
	}
	clk.Step(time.Minute)
	q.flushBackoffQCompleted()
	if a, _, _ := q.Pending(); a != 0 {
		t.Fatal("an unschedulable pod went back without a move request")
	}
	q.MoveAllToActiveOrBackoffQueue(nil)
	if a, _, u := q.Pending(); a != 1 || u != 0 {
		t.Fatalf("after the move: active %d unschedulable %d, want 1 and 0", a, u)
	}
}

func TestMoveDuringBackoffGoesToBackoffQ(t *testing.T) {
	t.Parallel()
	q, clk := newQueue()
	q.Add(st.MakePod("ns", "p").Obj())
	p := pop(t, q)
	q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
	q.MoveAllToActiveOrBackoffQueue(nil)
	if _, b, _ := q.Pending(); b != 1 {
		t.Fatalf("backoff = %d, want 1 (moved within its 1s backoff)", b)
	}
	clk.Step(999 * time.Millisecond)
	q.flushBackoffQCompleted()
	if a, _, _ := q.Pending(); a != 0 {
		t.Fatal("left backoff early")
	}
	clk.Step(2 * time.Millisecond)
	q.flushBackoffQCompleted()
	if a, _, _ := q.Pending(); a != 1 {
		t.Fatal("did not leave backoff after 1s")
	}
}

func TestMoveRequestDuringCycleRetries(t *testing.T) {
	t.Parallel()
	q, _ := newQueue()
	q.Add(st.MakePod("ns", "p").Obj())
	p := pop(t, q)
	cycle := q.SchedulingCycle()
	q.MoveAllToActiveOrBackoffQueue(nil) // e.g. a node was added while p was being decided
	q.AddUnschedulableIfNotPresent(p, cycle)
	if _, b, u := q.Pending(); b != 1 || u != 0 {
		t.Fatalf("backoff %d unschedulable %d, want 1 and 0", b, u)
	}
}

func TestPreCheckedMove(t *testing.T) {
	t.Parallel()
	q, clk := newQueue()
	for _, name := range []string{"affinity", "resources"} {
		q.Add(st.MakePod("ns", name).Obj())
		p := pop(t, q)
		p.UnschedulablePlugins = sets.New(map[string]string{"affinity": "InterPodAffinity", "resources": "NodeResourcesFit"}[name])
		q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
	}
	clk.Step(time.Minute)
	q.MoveAllToActiveOrBackoffQueue(func(p *QueuedPodInfo) bool { return p.UnschedulablePlugins.Has("InterPodAffinity") })
	if a, _, u := q.Pending(); a != 1 || u != 1 {
		t.Fatalf("active %d unschedulable %d, want 1 and 1", a, u)
	}
	if got := pop(t, q).Pod.Name; got != "affinity" {
		t.Fatalf("moved %s, want affinity", got)
	}
}

func TestErrorsGoToBackoffAndLeftoversAreFlushed(t *testing.T) {
	t.Parallel()
	q, clk := newQueue()
	q.Add(st.MakePod("ns", "err").Obj())
	p := pop(t, q)
	p.Error = true
	q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
	if _, b, _ := q.Pending(); b != 1 {
		t.Fatal("an error did not go to backoffQ")
	}
	clk.Step(2 * time.Second)
	q.flushBackoffQCompleted()
	p = pop(t, q)
	p.Error = false
	q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
	clk.Step(5*time.Minute + time.Second)
	q.flushUnschedulableLeftover()
	if a, _, u := q.Pending(); a != 1 || u != 0 {
		t.Fatalf("after 5m: active %d unschedulable %d, want 1 and 0", a, u)
	}
}

func TestUpdateMovesUnschedulableOnlyOnSpecChange(t *testing.T) {
	t.Parallel()
	q, clk := newQueue()
	pod := st.MakePod("ns", "p").Obj()
	q.Add(pod)
	p := pop(t, q)
	q.AddUnschedulableIfNotPresent(p, q.SchedulingCycle())
	clk.Step(time.Minute)
	status := pod.DeepCopy()
	status.Status.Conditions = []v1.PodCondition{{Type: v1.PodScheduled, Status: v1.ConditionFalse}}
	status.ResourceVersion = "2"
	q.Update(pod, status)
	if _, _, u := q.Pending(); u != 1 {
		t.Fatal("a status-only update moved the pod")
	}
	labelled := status.DeepCopy()
	labelled.Labels["new"] = "x"
	q.Update(status, labelled)
	if a, _, _ := q.Pending(); a != 1 {
		t.Fatal("a label change did not move the pod")
	}
}

func TestDeleteAndClose(t *testing.T) {
	t.Parallel()
	q, _ := newQueue()
	p := st.MakePod("ns", "p").Obj()
	q.Add(p)
	q.Delete(p)
	done := make(chan error)
	go func() {
		_, err := q.Pop()
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	q.Close()
	if err := <-done; err != ErrClosed {
		t.Fatalf("Pop after Close = %v, want ErrClosed", err)
	}
}
