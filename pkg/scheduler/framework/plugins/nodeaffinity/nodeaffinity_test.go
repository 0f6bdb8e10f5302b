package nodeaffinity

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func nodeInfo(n *v1.Node) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(n)
	return ni
}

func in(k string, v ...string) v1.NodeSelectorRequirement {
	return v1.NodeSelectorRequirement{Key: k, Operator: v1.NodeSelectorOpIn, Values: v}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	node := st.MakeNode("n").Label("zone", "a").Label("gen", "3").Obj()
	tests := []struct {
		name    string
		pod     *v1.Pod
		want    framework.Code
		skipped bool
	}{
		{"no constraints: skipped", st.MakePod("ns", "p").Obj(), framework.Success, true},
		{"nodeSelector fits", st.MakePod("ns", "p").NodeSelector(map[string]string{"zone": "a"}).Obj(), framework.Success, false},
		{"nodeSelector does not fit", st.MakePod("ns", "p").NodeSelector(map[string]string{"zone": "b"}).Obj(), framework.UnschedulableAndUnresolvable, false},
		{"required In fits", st.MakePod("ns", "p").RequiredNodeAffinity(in("zone", "a", "b")).Obj(), framework.Success, false},
		{"required NotIn", st.MakePod("ns", "p").RequiredNodeAffinity(v1.NodeSelectorRequirement{Key: "zone", Operator: v1.NodeSelectorOpNotIn, Values: []string{"a"}}).Obj(),
			framework.UnschedulableAndUnresolvable, false},
		{"required Gt", st.MakePod("ns", "p").RequiredNodeAffinity(v1.NodeSelectorRequirement{Key: "gen", Operator: v1.NodeSelectorOpGt, Values: []string{"2"}}).Obj(),
			framework.Success, false},
		{"required DoesNotExist", st.MakePod("ns", "p").RequiredNodeAffinity(v1.NodeSelectorRequirement{Key: "gpu", Operator: v1.NodeSelectorOpDoesNotExist}).Obj(),
			framework.Success, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := NodeAffinity{}
			state := framework.NewCycleState()
			pre := p.PreFilter(context.Background(), state, tt.pod)
			if pre.IsSkip() != tt.skipped {
				t.Fatalf("PreFilter skip = %v, want %v", pre.IsSkip(), tt.skipped)
			}
			s := p.Filter(context.Background(), state, tt.pod, nodeInfo(node))
			if s.Code() != tt.want {
				t.Fatalf("code = %v, want %v", s.Code(), tt.want)
			}
			if !s.IsSuccess() && s.Message() != ErrReasonPod {
				t.Errorf("message %q", s.Message())
			}
		})
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	nodes := []*v1.Node{st.MakeNode("a").Label("zone", "a").Obj(), st.MakeNode("b").Label("zone", "b").Label("ssd", "true").Obj(),
		st.MakeNode("c").Obj()}
	pod := st.MakePod("ns", "p").PreferredNodeAffinity(10, in("zone", "a")).PreferredNodeAffinity(30, in("zone", "b"), in("ssd", "true")).Obj()
	p := NodeAffinity{}
	state := framework.NewCycleState()
	if s := p.PreScore(context.Background(), state, pod, nil); !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	scores := framework.NodeScoreList{}
	for _, n := range nodes {
		s, _ := p.Score(context.Background(), state, pod, nodeInfo(n))
		scores = append(scores, framework.NodeScore{Name: n.Name, Score: s})
	}
	p.NormalizeScore(context.Background(), state, pod, scores)
	want := []int64{33, 100, 0}
	for i := range scores {
		if scores[i].Score != want[i] {
			t.Errorf("%s = %d, want %d", scores[i].Name, scores[i].Score, want[i])
		}
	}
	if s := p.PreScore(context.Background(), state, st.MakePod("ns", "q").Obj(), nil); !s.IsSkip() {
		t.Errorf("PreScore without preferred terms = %v, want Skip", s.Code())
	}
}
