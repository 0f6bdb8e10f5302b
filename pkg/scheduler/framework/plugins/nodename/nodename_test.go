package nodename

import (
	"context"
	"testing"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func TestFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, podNode string
		want          framework.Code
	}{
		{"no node name", "", framework.Success},
		{"this node", "n", framework.Success},
		{"another node", "m", framework.UnschedulableAndUnresolvable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ni := framework.NewNodeInfo()
			ni.SetNode(st.MakeNode("n").Obj())
			s := NodeName{}.Filter(context.Background(), framework.NewCycleState(), st.MakePod("ns", "p").Node(tt.podNode).Obj(), ni)
			if s.Code() != tt.want {
				t.Fatalf("code = %v, want %v", s.Code(), tt.want)
			}
		})
	}
}
