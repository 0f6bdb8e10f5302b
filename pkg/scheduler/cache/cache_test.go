package cache_test

import (
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/cache"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

type res = map[v1.ResourceName]string

func requestedCPU(t *testing.T, s *cache.Snapshot, node string) int64 {
	t.Helper()
	ni, err := s.Get(node)
	if err != nil {
		t.Fatal(err)
	}
	return ni.Requested.MilliCPU
}

func TestAssumeConfirmForget(t *testing.T) {
	t.Parallel()
	c := cache.New()
	c.AddNode(st.MakeNode("n1").Obj())
	c.AddNode(st.MakeNode("n2").Obj())
	snap := cache.NewEmptySnapshot()
	pod := st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).Node("n1").Obj()

	if err := c.AssumePod(pod); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(pod); err == nil {
		t.Fatal("assuming twice succeeded")
	}
	c.UpdateSnapshot(snap)
	if got := requestedCPU(t, snap, "n1"); got != 1000 {
		t.Fatalf("n1 requested %dm after assume, want 1000m", got)
	}
	if !c.IsAssumedPod(pod) {
		t.Fatal("not assumed")
	}
	// The informer confirms the binding (here on the same node).
	if err := c.AddPod(pod); err != nil {
		t.Fatal(err)
	}
	if c.IsAssumedPod(pod) {
		t.Fatal("still assumed after AddPod")
	}
	if err := c.ForgetPod(pod); err == nil {
		t.Fatal("forgot a confirmed pod")
	}
	c.UpdateSnapshot(snap)
	if got := requestedCPU(t, snap, "n1"); got != 1000 {
		t.Fatalf("n1 requested %dm after confirm, want 1000m (counted once)", got)
	}

	other := st.MakePod("ns", "q").Req(res{v1.ResourceCPU: "2"}).Node("n2").Obj()
	if err := c.AssumePod(other); err != nil {
		t.Fatal(err)
	}
	if err := c.ForgetPod(other); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if got := requestedCPU(t, snap, "n2"); got != 0 {
		t.Fatalf("n2 requested %dm after forget, want 0", got)
	}
	if _, pods := c.Counts(); pods != 1 {
		t.Fatalf("%d pods, want 1", pods)
	}
}

func TestConfirmOnAnotherNodeMovesThePod(t *testing.T) {
	t.Parallel()
	c := cache.New()
	c.AddNode(st.MakeNode("n1").Obj())
	c.AddNode(st.MakeNode("n2").Obj())
	assumed := st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).Node("n1").Obj()
	if err := c.AssumePod(assumed); err != nil {
		t.Fatal(err)
	}
	bound := assumed.DeepCopy()
	bound.Spec.NodeName = "n2"
	if err := c.AddPod(bound); err != nil {
		t.Fatal(err)
	}
	snap := cache.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if requestedCPU(t, snap, "n1") != 0 || requestedCPU(t, snap, "n2") != 1000 {
		t.Fatal("pod not moved to the node the apiserver reported")
	}
}

func TestSnapshotIsIncrementalAndIsolated(t *testing.T) {
	t.Parallel()
	c := cache.New()
	for _, n := range []string{"b", "a", "c"} {
		c.AddNode(st.MakeNode(n).Obj())
	}
	snap := cache.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if got := []string{snap.List()[0].Node().Name, snap.List()[1].Node().Name, snap.List()[2].Node().Name}; got[0] != "a" || got[2] != "c" {
		t.Fatalf("order %v, want sorted", got)
	}
	aBefore, _ := snap.Get("a")
	bBefore, _ := snap.Get("b")
	if err := c.AddPod(st.MakePod("ns", "p").Node("b").PodAffinity(true, 0, v1.LabelHostname, "app", "x").Obj()); err != nil {
		t.Fatal(err)
	}
	if len(bBefore.Pods) != 0 {
		t.Fatal("a snapshot NodeInfo changed when the cache did")
	}
	c.UpdateSnapshot(snap)
	aAfter, _ := snap.Get("a")
	bAfter, _ := snap.Get("b")
	if aAfter != aBefore {
		t.Error("an unchanged node was cloned again")
	}
	if bAfter == bBefore || len(bAfter.Pods) != 1 {
		t.Error("the changed node was not refreshed")
	}
	if len(snap.HavePodsWithAffinityList()) != 1 || len(snap.HavePodsWithRequiredAntiAffinityList()) != 1 {
		t.Error("affinity lists not maintained")
	}
	c.RemoveNode(st.MakeNode("c").Obj())
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 2 {
		t.Fatalf("%d nodes after removal, want 2", snap.NumNodes())
	}
	if _, err := snap.Get("c"); err == nil {
		t.Fatal("removed node still in the snapshot")
	}
}

func TestPodsBeforeTheirNode(t *testing.T) {
	t.Parallel()
	c := cache.New()
	if err := c.AddPod(st.MakePod("ns", "p").Node("late").Obj()); err != nil {
		t.Fatal(err)
	}
	snap := cache.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 0 {
		t.Fatal("a node without a Node object is in the snapshot")
	}
	c.AddNode(st.MakeNode("late").Obj())
	c.UpdateSnapshot(snap)
	ni, err := snap.Get("late")
	if err != nil || len(ni.Pods) != 1 {
		t.Fatalf("node %v err %v: want the earlier pod counted", ni, err)
	}
}
