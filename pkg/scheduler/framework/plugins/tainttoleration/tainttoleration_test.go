package tainttoleration

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

func TestFilter(t *testing.T) {
	t.Parallel()
	cp := st.MakeNode("cp").Taint("node-role.kubernetes.io/control-plane", "", v1.TaintEffectNoSchedule).Obj()
	tests := []struct {
		name    string
		pod     *v1.Pod
		node    *v1.Node
		want    framework.Code
		message string
	}{
		{"no taints", st.MakePod("ns", "p").Obj(), st.MakeNode("n").Obj(), framework.Success, ""},
		{"control-plane taint", st.MakePod("ns", "p").Obj(), cp, framework.UnschedulableAndUnresolvable,
			"node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"},
		{"control-plane taint tolerated with Exists", st.MakePod("ns", "p").
			Toleration("node-role.kubernetes.io/control-plane", v1.TolerationOpExists, "", v1.TaintEffectNoSchedule).Obj(), cp, framework.Success, ""},
		{"not-ready NoExecute", st.MakePod("ns", "p").Obj(),
			st.MakeNode("n").Taint("node.kubernetes.io/not-ready", "", v1.TaintEffectNoExecute).Obj(),
			framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
		{"value mismatch", st.MakePod("ns", "p").Toleration("dedicated", v1.TolerationOpEqual, "cpu", v1.TaintEffectNoSchedule).Obj(),
			st.MakeNode("n").Taint("dedicated", "gpu", v1.TaintEffectNoSchedule).Obj(),
			framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: gpu}"},
		{"value match, any effect", st.MakePod("ns", "p").Toleration("dedicated", v1.TolerationOpEqual, "gpu", "").Obj(),
			st.MakeNode("n").Taint("dedicated", "gpu", v1.TaintEffectNoSchedule).Taint("dedicated", "gpu", v1.TaintEffectNoExecute).Obj(),
			framework.Success, ""},
		{"tolerate everything", st.MakePod("ns", "p").Toleration("", v1.TolerationOpExists, "", "").Obj(), cp, framework.Success, ""},
		{"PreferNoSchedule does not filter", st.MakePod("ns", "p").Obj(),
			st.MakeNode("n").Taint("soft", "", v1.TaintEffectPreferNoSchedule).Obj(), framework.Success, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := TaintToleration{}.Filter(context.Background(), framework.NewCycleState(), tt.pod, nodeInfo(tt.node))
			if s.Code() != tt.want || s.Message() != tt.message {
				t.Fatalf("got %v %q, want %v %q", s.Code(), s.Message(), tt.want, tt.message)
			}
		})
	}
}

func TestScore(t *testing.T) {
	t.Parallel()
	nodes := []*v1.Node{
		st.MakeNode("clean").Obj(),
		st.MakeNode("one").Taint("a", "", v1.TaintEffectPreferNoSchedule).Obj(),
		st.MakeNode("two").Taint("a", "", v1.TaintEffectPreferNoSchedule).Taint("b", "", v1.TaintEffectPreferNoSchedule).Obj(),
	}
	tests := []struct {
		name string
		pod  *v1.Pod
		want []int64
	}{
		{"fewer taints better", st.MakePod("ns", "p").Obj(), []int64{100, 50, 0}},
		{"tolerated taints do not count", st.MakePod("ns", "p").Toleration("a", v1.TolerationOpExists, "", v1.TaintEffectPreferNoSchedule).Obj(), []int64{100, 100, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := TaintToleration{}
			state := framework.NewCycleState()
			p.PreScore(context.Background(), state, tt.pod, nil)
			scores := make(framework.NodeScoreList, len(nodes))
			for i, n := range nodes {
				s, st := p.Score(context.Background(), state, tt.pod, nodeInfo(n))
				if !st.IsSuccess() {
					t.Fatal(st.AsError())
				}
				scores[i] = framework.NodeScore{Name: n.Name, Score: s}
			}
			p.NormalizeScore(context.Background(), state, tt.pod, scores)
			for i := range scores {
				if scores[i].Score != tt.want[i] {
					t.Errorf("%s = %d, want %d", scores[i].Name, scores[i].Score, tt.want[i])
				}
			}
		})
	}
}
