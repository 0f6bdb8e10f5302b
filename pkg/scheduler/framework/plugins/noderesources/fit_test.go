package noderesources

import (
	"context"
	"reflect"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

type res = map[v1.ResourceName]string

func TestFitFilter(t *testing.T) {
	t.Parallel()
	// 4 cpu, 16Gi, 100Gi ephemeral, 110 pods; 2 example.com/gpu.
	node := st.MakeNode("n").Capacity(res{"example.com/gpu": "2"}).Obj()
	half := st.MakePod("ns", "half").Req(res{v1.ResourceCPU: "2", v1.ResourceMemory: "8Gi", "example.com/gpu": "1"}).Obj()
	tests := []struct {
		name     string
		existing []*v1.Pod
		pod      *v1.Pod
		node     *v1.Node
		reasons  []string
	}{
		{"empty pod fits", nil, st.MakePod("ns", "p").Obj(), node, nil},
		{"fits beside another", []*v1.Pod{half}, st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "2", v1.ResourceMemory: "8Gi"}).Obj(), node, nil},
		{"insufficient cpu", []*v1.Pod{half}, st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "2100m"}).Obj(), node, []string{"Insufficient cpu"}},
		{"insufficient cpu and memory", []*v1.Pod{half}, st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "3", v1.ResourceMemory: "9Gi"}).Obj(), node,
			[]string{"Insufficient cpu", "Insufficient memory"}},
		{"insufficient ephemeral-storage", nil, st.MakePod("ns", "p").Req(res{v1.ResourceEphemeralStorage: "101Gi"}).Obj(), node,
			[]string{"Insufficient ephemeral-storage"}},
		{"extended resource fits", []*v1.Pod{half}, st.MakePod("ns", "p").Req(res{"example.com/gpu": "1"}).Obj(), node, nil},
		{"extended resource exhausted", []*v1.Pod{half}, st.MakePod("ns", "p").Req(res{"example.com/gpu": "2"}).Obj(), node,
			[]string{"Insufficient example.com/gpu"}},
		{"extended resource absent on node", nil, st.MakePod("ns", "p").Req(res{"example.com/fpga": "1"}).Obj(), st.MakeNode("plain").Obj(),
			[]string{"Insufficient example.com/fpga"}},
		{"too many pods", []*v1.Pod{half}, st.MakePod("ns", "p").Obj(), st.MakeNode("tiny").Capacity(res{v1.ResourcePods: "1"}).Obj(),
			[]string{"Too many pods"}},
		{"init container larger than containers", nil,
			st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).InitReq(res{v1.ResourceCPU: "5"}, false).Obj(), node, []string{"Insufficient cpu"}},
		{"init containers are not summed", nil,
			st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).InitReq(res{v1.ResourceCPU: "3"}, false).InitReq(res{v1.ResourceCPU: "3"}, false).Obj(), node, nil},
		{"sidecar adds to containers", nil,
			st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "3"}).InitReq(res{v1.ResourceCPU: "1500m"}, true).Obj(), node, []string{"Insufficient cpu"}},
		{"overhead counts", nil,
			st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "3500m"}).Overhead(res{v1.ResourceCPU: "600m"}).Obj(), node, []string{"Insufficient cpu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ni := framework.NewNodeInfo(tt.existing...)
			ni.SetNode(tt.node)
			p := Fit{}
			state := framework.NewCycleState()
			p.PreFilter(context.Background(), state, tt.pod)
			s := p.Filter(context.Background(), state, tt.pod, ni)
			if !reflect.DeepEqual(s.Reasons(), tt.reasons) {
				t.Fatalf("reasons = %q, want %q", s.Reasons(), tt.reasons)
			}
			if tt.reasons != nil && s.Code() != framework.Unschedulable {
				t.Errorf("code = %v, want Unschedulable", s.Code())
			}
		})
	}
}

func score(t *testing.T, p framework.ScorePlugin, pod *v1.Pod, existing []*v1.Pod, node *v1.Node) int64 {
	t.Helper()
	ni := framework.NewNodeInfo(existing...)
	ni.SetNode(node)
	state := framework.NewCycleState()
	if pre, ok := p.(framework.PreScorePlugin); ok {
		if s := pre.PreScore(context.Background(), state, pod, nil); s.IsSkip() {
			return -1
		}
	}
	s, st := p.Score(context.Background(), state, pod, ni)
	if !st.IsSuccess() {
		t.Fatal(st.AsError())
	}
	return s
}

func TestLeastAllocatedScore(t *testing.T) {
	t.Parallel()
	node := st.MakeNode("n").Obj() // 4 cpu, 16Gi
	tests := []struct {
		name     string
		existing []*v1.Pod
		pod      *v1.Pod
		want     int64
	}{
		{"empty node, 1 cpu 4Gi", nil, st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1", v1.ResourceMemory: "4Gi"}).Obj(), 75},
		{"half used", []*v1.Pod{st.MakePod("ns", "e").Req(res{v1.ResourceCPU: "2", v1.ResourceMemory: "8Gi"}).Obj()},
			st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1", v1.ResourceMemory: "4Gi"}).Obj(), 25},
		// No requests count as 100m and 200Mi: (3900/4000*100 + (16384-200)/16384*100)/2.
		{"no requests use defaults", nil, st.MakePod("ns", "p").Obj(), (97 + 98) / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := score(t, Fit{}, tt.pod, tt.existing, node); got != tt.want {
				t.Fatalf("score = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBalancedAllocationScore(t *testing.T) {
	t.Parallel()
	node := st.MakeNode("n").Obj() // 4 cpu, 16Gi
	tests := []struct {
		name string
		pod  *v1.Pod
		want int64
	}{
		{"balanced", st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "2", v1.ResourceMemory: "8Gi"}).Obj(), 100},
		{"cpu only", st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "2"}).Obj(), 75},
		{"no requests: skipped", st.MakePod("ns", "p").Obj(), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := score(t, BalancedAllocation{}, tt.pod, nil, node); got != tt.want {
				t.Fatalf("score = %d, want %d", got, tt.want)
			}
		})
	}
}
