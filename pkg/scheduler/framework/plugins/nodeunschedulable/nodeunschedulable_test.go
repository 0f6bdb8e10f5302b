package nodeunschedulable

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pod  *v1.Pod
		node *v1.Node
		want framework.Code
	}{
		{"schedulable node", st.MakePod("ns", "p").Obj(), st.MakeNode("n").Obj(), framework.Success},
		{"cordoned node", st.MakePod("ns", "p").Obj(), st.MakeNode("n").Unschedulable().Obj(), framework.UnschedulableAndUnresolvable},
		{"cordoned node, tolerated", st.MakePod("ns", "p").Toleration(v1.TaintNodeUnschedulable, v1.TolerationOpExists, "", v1.TaintEffectNoSchedule).Obj(),
			st.MakeNode("n").Unschedulable().Obj(), framework.Success},
		{"cordoned node, wrong effect tolerated", st.MakePod("ns", "p").Toleration(v1.TaintNodeUnschedulable, v1.TolerationOpExists, "", v1.TaintEffectNoExecute).Obj(),
			st.MakeNode("n").Unschedulable().Obj(), framework.UnschedulableAndUnresolvable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ni := framework.NewNodeInfo()
			ni.SetNode(tt.node)
			s := NodeUnschedulable{}.Filter(context.Background(), framework.NewCycleState(), tt.pod, ni)
			if s.Code() != tt.want {
				t.Fatalf("code = %v, want %v", s.Code(), tt.want)
			}
			if tt.want != framework.Success && s.Message() != ErrReasonUnschedulable {
				t.Errorf("message = %q", s.Message())
			}
		})
	}
}
