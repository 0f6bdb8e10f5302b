package nodeports

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
		name     string
		existing []*v1.Pod
		pod      *v1.Pod
		want     framework.Code
	}{
		{"no ports", nil, st.MakePod("ns", "p").Obj(), framework.Success},
		{"free port", []*v1.Pod{st.MakePod("ns", "e").HostPort(80, v1.ProtocolTCP, "").Obj()},
			st.MakePod("ns", "p").HostPort(8080, v1.ProtocolTCP, "").Obj(), framework.Success},
		{"same port and protocol", []*v1.Pod{st.MakePod("ns", "e").HostPort(80, v1.ProtocolTCP, "").Obj()},
			st.MakePod("ns", "p").HostPort(80, v1.ProtocolTCP, "").Obj(), framework.Unschedulable},
		{"other protocol", []*v1.Pod{st.MakePod("ns", "e").HostPort(53, v1.ProtocolTCP, "").Obj()},
			st.MakePod("ns", "p").HostPort(53, v1.ProtocolUDP, "").Obj(), framework.Success},
		{"different IPs", []*v1.Pod{st.MakePod("ns", "e").HostPort(80, v1.ProtocolTCP, "10.0.0.1").Obj()},
			st.MakePod("ns", "p").HostPort(80, v1.ProtocolTCP, "10.0.0.2").Obj(), framework.Success},
		{"wildcard against specific IP", []*v1.Pod{st.MakePod("ns", "e").HostPort(80, v1.ProtocolTCP, "10.0.0.1").Obj()},
			st.MakePod("ns", "p").HostPort(80, v1.ProtocolTCP, "0.0.0.0").Obj(), framework.Unschedulable},
		{"specific IP against wildcard", []*v1.Pod{st.MakePod("ns", "e").HostPort(80, v1.ProtocolTCP, "").Obj()},
			st.MakePod("ns", "p").HostPort(80, v1.ProtocolTCP, "10.0.0.2").Obj(), framework.Unschedulable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ni := framework.NewNodeInfo(tt.existing...)
			ni.SetNode(st.MakeNode("n").Obj())
			p := NodePorts{}
			state := framework.NewCycleState()
			if s := p.PreFilter(context.Background(), state, tt.pod); s.IsSkip() {
				return // no ports: Filter is skipped
			}
			s := p.Filter(context.Background(), state, tt.pod, ni)
			if s.Code() != tt.want {
				t.Fatalf("code = %v, want %v", s.Code(), tt.want)
			}
			if !s.IsSuccess() && s.Message() != ErrReason {
				t.Errorf("message %q", s.Message())
			}
		})
	}
}
