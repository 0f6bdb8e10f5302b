package interpodaffinity

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

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
func (h fakeHandle) NamespaceLabels(ns string) labels.Set           { return labels.Set{"name": ns} }

const zone = "topology.kubernetes.io/zone"

// nodes: n1, n2 in zone a; n3 in zone b; n4 without a zone.
func testNodes() []*v1.Node {
	return []*v1.Node{
		st.MakeNode("n1").Label(zone, "a").Obj(), st.MakeNode("n2").Label(zone, "a").Obj(),
		st.MakeNode("n3").Label(zone, "b").Obj(), st.MakeNode("n4").Obj(),
	}
}

// filter runs PreFilter and Filter on every node and returns the codes.
func filter(t *testing.T, pod *v1.Pod, existing []*v1.Pod) map[string]*framework.Status {
	t.Helper()
	snap := cache.NewSnapshot(existing, testNodes())
	p, _ := New(fakeHandle{snap: snap})
	pl := p.(*InterPodAffinity)
	state := framework.NewCycleState()
	out := map[string]*framework.Status{}
	pre := pl.PreFilter(context.Background(), state, pod)
	for _, ni := range snap.List() {
		if pre.IsSkip() {
			out[ni.Node().Name] = nil
			continue
		}
		out[ni.Node().Name] = pl.Filter(context.Background(), state, pod, ni)
	}
	return out
}

func TestFilter(t *testing.T) {
	t.Parallel()
	web := func(name, node string) *v1.Pod { return st.MakePod("ns", name).Label("app", "web").Node(node).Obj() }
	tests := []struct {
		name     string
		pod      *v1.Pod
		existing []*v1.Pod
		want     map[string]string // node → reason ("" fits)
	}{
		{"no affinity", st.MakePod("ns", "p").Obj(), []*v1.Pod{web("w", "n1")},
			map[string]string{"n1": "", "n2": "", "n3": "", "n4": ""}},
		{"required affinity to zone of web", st.MakePod("ns", "p").PodAffinity(false, 0, zone, "app", "web").Obj(), []*v1.Pod{web("w", "n1")},
			map[string]string{"n1": "", "n2": "", "n3": ErrReasonAffinityRulesNotMatch, "n4": ErrReasonAffinityRulesNotMatch}},
		{"affinity in another namespace does not count", st.MakePod("other", "p").PodAffinity(false, 0, zone, "app", "web").Obj(), []*v1.Pod{web("w", "n1")},
			map[string]string{"n1": ErrReasonAffinityRulesNotMatch, "n2": ErrReasonAffinityRulesNotMatch, "n3": ErrReasonAffinityRulesNotMatch, "n4": ErrReasonAffinityRulesNotMatch}},
		{"first pod of a self-affine group", st.MakePod("ns", "p").Label("app", "web").PodAffinity(false, 0, zone, "app", "web").Obj(), nil,
			map[string]string{"n1": "", "n2": "", "n3": "", "n4": ErrReasonAffinityRulesNotMatch}},
		{"required anti-affinity per hostname", st.MakePod("ns", "p").PodAffinity(true, 0, v1.LabelHostname, "app", "web").Obj(), []*v1.Pod{web("w", "n1")},
			map[string]string{"n1": ErrReasonAntiAffinityRulesNotMatch, "n2": "", "n3": "", "n4": ""}},
		{"required anti-affinity per zone", st.MakePod("ns", "p").PodAffinity(true, 0, zone, "app", "web").Obj(), []*v1.Pod{web("w", "n1")},
			map[string]string{"n1": ErrReasonAntiAffinityRulesNotMatch, "n2": ErrReasonAntiAffinityRulesNotMatch, "n3": "", "n4": ""}},
		{"existing pod's anti-affinity", st.MakePod("ns", "p").Label("app", "db").Obj(),
			[]*v1.Pod{st.MakePod("ns", "w").Node("n3").PodAffinity(true, 0, zone, "app", "db").Obj()},
			map[string]string{"n1": "", "n2": "", "n3": ErrReasonExistingAntiAffinityRulesNotMatch, "n4": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := filter(t, tt.pod, tt.existing)
			for node, reason := range tt.want {
				if got[node].Message() != reason {
					t.Errorf("%s: %q, want %q", node, got[node].Message(), reason)
				}
			}
		})
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	existing := []*v1.Pod{st.MakePod("ns", "w").Label("app", "web").Node("n1").Obj(),
		st.MakePod("ns", "d").Label("app", "db").Node("n3").Obj()}
	tests := []struct {
		name string
		pod  *v1.Pod
		want map[string]int64
	}{
		{"prefer web's zone", st.MakePod("ns", "p").PodAffinity(false, 10, zone, "app", "web").Obj(),
			map[string]int64{"n1": 100, "n2": 100, "n3": 0, "n4": 0}},
		{"avoid db's zone", st.MakePod("ns", "p").PodAffinity(true, 10, zone, "app", "db").Obj(),
			map[string]int64{"n1": 100, "n2": 100, "n3": 0, "n4": 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			snap := cache.NewSnapshot(existing, testNodes())
			p, _ := New(fakeHandle{snap: snap})
			pl := p.(*InterPodAffinity)
			state := framework.NewCycleState()
			if s := pl.PreScore(context.Background(), state, tt.pod, snap.List()); !s.IsSuccess() {
				t.Fatal(s.Code())
			}
			var scores framework.NodeScoreList
			for _, ni := range snap.List() {
				s, _ := pl.Score(context.Background(), state, tt.pod, ni)
				scores = append(scores, framework.NodeScore{Name: ni.Node().Name, Score: s})
			}
			pl.NormalizeScore(context.Background(), state, tt.pod, scores)
			for _, s := range scores {
				if s.Score != tt.want[s.Name] {
					t.Errorf("%s = %d, want %d", s.Name, s.Score, tt.want[s.Name])
				}
			}
		})
	}
}
