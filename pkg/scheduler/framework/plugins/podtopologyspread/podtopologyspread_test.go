package podtopologyspread

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/scheduler/cache"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

type fakeHandle struct {
	snap *cache.Snapshot
	sel  labels.Selector
}

func (h fakeHandle) DefaultSelector(*v1.Pod) labels.Selector { return h.sel }

func (h fakeHandle) SnapshotSharedLister() framework.NodeInfoLister { return h.snap }
func (h fakeHandle) NamespaceLabels(string) labels.Set              { return nil }

const zone = "topology.kubernetes.io/zone"

// n1, n2 in zone a; n3 in zone b; n4 without zone.
func testNodes() []*v1.Node {
	return []*v1.Node{
		st.MakeNode("n1").Label(zone, "a").Obj(), st.MakeNode("n2").Label(zone, "a").Obj(),
		st.MakeNode("n3").Label(zone, "b").Obj(), st.MakeNode("n4").Obj(),
	}
}

func web(name, node string) *v1.Pod {
	return st.MakePod("ns", name).Label("app", "web").Node(node).Obj()
}

func TestFilter(t *testing.T) {
	t.Parallel()
	spread := func() *st.PodWrapper {
		return st.MakePod("ns", "p").Label("app", "web").SpreadConstraint(1, zone, v1.DoNotSchedule, "app", "web")
	}
	tests := []struct {
		name     string
		pod      *v1.Pod
		existing []*v1.Pod
		want     map[string]string
	}{
		{"balanced zones: anywhere with the key", spread().Obj(), []*v1.Pod{web("a", "n1"), web("b", "n3")},
			map[string]string{"n1": "", "n2": "", "n3": "", "n4": ErrReasonNodeLabelNotMatch}},
		{"zone a ahead: only zone b", spread().Obj(), []*v1.Pod{web("a", "n1"), web("a2", "n2")},
			map[string]string{"n1": ErrReasonConstraintsNotMatch, "n2": ErrReasonConstraintsNotMatch, "n3": "", "n4": ErrReasonNodeLabelNotMatch}},
		{"maxSkew 2 allows it", st.MakePod("ns", "p").Label("app", "web").SpreadConstraint(2, zone, v1.DoNotSchedule, "app", "web").Obj(),
			[]*v1.Pod{web("a", "n1")}, map[string]string{"n1": "", "n2": "", "n3": ""}},
		{"other namespace does not count", spread().Obj(), []*v1.Pod{st.MakePod("other", "x").Label("app", "web").Node("n1").Obj(),
			st.MakePod("other", "y").Label("app", "web").Node("n1").Obj()}, map[string]string{"n1": "", "n3": ""}},
		{"terminating pods do not count", spread().Obj(), []*v1.Pod{st.MakePod("ns", "x").Label("app", "web").Node("n1").Terminating().Obj(),
			st.MakePod("ns", "y").Label("app", "web").Node("n1").Terminating().Obj()}, map[string]string{"n1": "", "n3": ""}},
		{"minDomains above domain count makes the minimum 0", func() *v1.Pod {
			p := spread().Obj()
			p.Spec.TopologySpreadConstraints[0].MinDomains = ptr.To[int32](3)
			return p
		}(), []*v1.Pod{web("a", "n1"), web("b", "n3")},
			map[string]string{"n1": ErrReasonConstraintsNotMatch, "n3": ErrReasonConstraintsNotMatch}},
		{"ScheduleAnyway does not filter", st.MakePod("ns", "p").Label("app", "web").SpreadConstraint(1, zone, v1.ScheduleAnyway, "app", "web").Obj(),
			[]*v1.Pod{web("a", "n1"), web("a2", "n2")}, map[string]string{"n1": "", "n4": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snap := cache.NewSnapshot(tt.existing, testNodes())
			p, _ := New(fakeHandle{snap: snap})
			pl := p.(*PodTopologySpread)
			state := framework.NewCycleState()
			pre := pl.PreFilter(context.Background(), state, tt.pod)
			for _, ni := range snap.List() {
				want, ok := tt.want[ni.Node().Name]
				if !ok {
					continue
				}
				var s *framework.Status
				if !pre.IsSkip() {
					s = pl.Filter(context.Background(), state, tt.pod, ni)
				}
				if s.Message() != want {
					t.Errorf("%s: %q, want %q", ni.Node().Name, s.Message(), want)
				}
			}
		})
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	pod := st.MakePod("ns", "p").Label("app", "web").SpreadConstraint(1, zone, v1.ScheduleAnyway, "app", "web").Obj()
	snap := cache.NewSnapshot([]*v1.Pod{web("a", "n1"), web("a2", "n2"), web("b", "n3")}, testNodes())
	p, _ := New(fakeHandle{snap: snap})
	pl := p.(*PodTopologySpread)
	state := framework.NewCycleState()
	if s := pl.PreScore(context.Background(), state, pod, snap.List()); !s.IsSuccess() {
		t.Fatal(s.Code())
	}
	var scores framework.NodeScoreList
	for _, ni := range snap.List() {
		s, _ := pl.Score(context.Background(), state, pod, ni)
		scores = append(scores, framework.NodeScore{Name: ni.Node().Name, Score: s})
	}
	pl.NormalizeScore(context.Background(), state, pod, scores)
	got := map[string]int64{}
	for _, s := range scores {
		got[s.Name] = s.Score
	}
	if !(got["n3"] > got["n1"] && got["n1"] == got["n2"] && got["n4"] == 0) {
		t.Errorf("scores %v: want zone b (n3) preferred over zone a, n4 (no zone) 0", got)
	}
}

func TestScoreSystemDefaults(t *testing.T) {
	t.Parallel()
	pod := st.MakePod("ns", "p").Label("app", "web").Obj() // no constraints of its own
	snap := cache.NewSnapshot([]*v1.Pod{web("a", "n1"), web("a2", "n1"), web("b", "n3")}, testNodes())
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	p, _ := New(fakeHandle{snap: snap, sel: sel})
	pl := p.(*PodTopologySpread)
	state := framework.NewCycleState()
	if s := pl.PreScore(context.Background(), state, pod, snap.List()); !s.IsSuccess() {
		t.Fatal(s.Code())
	}
	var scores framework.NodeScoreList
	for _, ni := range snap.List() {
		s, _ := pl.Score(context.Background(), state, pod, ni)
		scores = append(scores, framework.NodeScore{Name: ni.Node().Name, Score: s})
	}
	pl.NormalizeScore(context.Background(), state, pod, scores)
	got := map[string]int64{}
	for _, s := range scores {
		got[s.Name] = s.Score
	}
	// n1 holds two of the pods: lowest. n4 has no zone label, so only the
	// hostname constraint counts for it (as upstream, that favours it).
	if !(got["n1"] < got["n2"] && got["n1"] < got["n3"] && got["n4"] == framework.MaxNodeScore) {
		t.Errorf("scores %v: want n1 (two pods) lowest and n4 (no zone, no pods) highest", got)
	}

	// Nothing selects the pod: no default spreading.
	p, _ = New(fakeHandle{snap: snap})
	if s := p.(*PodTopologySpread).PreScore(context.Background(), framework.NewCycleState(), pod, snap.List()); !s.IsSkip() {
		t.Errorf("PreScore without a default selector = %v, want Skip", s.Code())
	}
}
