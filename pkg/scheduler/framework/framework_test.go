package framework_test

import (
	"context"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

type res = map[v1.ResourceName]string

func TestPodRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pod      *v1.Pod
		cpu, mem int64
		gpu      int64
		nzCPU    int64
	}{
		{"containers sum", st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1", v1.ResourceMemory: "1Gi"}).Req(res{v1.ResourceCPU: "500m"}).Obj(),
			1500, 1 << 30, 0, 1500},
		{"init container max", st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).InitReq(res{v1.ResourceCPU: "2"}, false).InitReq(res{v1.ResourceCPU: "3"}, false).Obj(),
			3000, 0, 0, 3000},
		{"sidecar adds", st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).InitReq(res{v1.ResourceCPU: "2"}, true).Obj(), 3000, 0, 0, 2000},
		{"init after sidecar includes it", st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).InitReq(res{v1.ResourceCPU: "1"}, true).InitReq(res{v1.ResourceCPU: "3"}, false).Obj(),
			4000, 0, 0, 3000},
		{"overhead", st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).Overhead(res{v1.ResourceCPU: "250m"}).Obj(), 1250, 0, 0, 1250},
		{"extended", st.MakePod("ns", "p").Req(res{"example.com/gpu": "2"}).Obj(), 0, 0, 2, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := framework.PodRequests(tt.pod)
			if r.MilliCPU != tt.cpu || r.Memory != tt.mem || r.ScalarResources["example.com/gpu"] != tt.gpu {
				t.Errorf("requests %+v, want cpu %d mem %d gpu %d", r, tt.cpu, tt.mem, tt.gpu)
			}
			if cpu, _ := framework.PodNonZeroRequests(tt.pod); cpu != tt.nzCPU {
				t.Errorf("non-zero cpu %d, want %d", cpu, tt.nzCPU)
			}
		})
	}
}

func TestNodeInfoAddRemove(t *testing.T) {
	t.Parallel()
	p := st.MakePod("ns", "p").Req(res{v1.ResourceCPU: "1"}).HostPort(80, v1.ProtocolTCP, "").PodAffinity(true, 0, "zone", "a", "b").Obj()
	ni := framework.NewNodeInfo(p)
	if ni.Requested.MilliCPU != 1000 || !ni.UsedPorts.CheckConflict("", "TCP", 80) || len(ni.PodsWithRequiredAntiAffinity) != 1 {
		t.Fatalf("after add: %+v", ni)
	}
	if err := ni.RemovePod(p); err != nil {
		t.Fatal(err)
	}
	if ni.Requested.MilliCPU != 0 || ni.UsedPorts.CheckConflict("", "TCP", 80) || len(ni.PodsWithRequiredAntiAffinity) != 0 || len(ni.Pods) != 0 {
		t.Fatalf("after remove: %+v", ni)
	}
	if err := ni.RemovePod(p); err == nil {
		t.Fatal("removing a missing pod succeeded")
	}
}

// fakePlugin filters by a node label and scores by a fixed map.
type fakePlugin struct {
	name   string
	reject string
	scores map[string]int64
}

func (f fakePlugin) Name() string { return f.name }
func (f fakePlugin) Filter(_ context.Context, _ *framework.CycleState, _ *v1.Pod, ni *framework.NodeInfo) *framework.Status {
	if ni.Node().Name == f.reject {
		return framework.NewStatus(framework.Unschedulable, "rejected by "+f.name)
	}
	return nil
}
func (f fakePlugin) Score(_ context.Context, _ *framework.CycleState, _ *v1.Pod, ni *framework.NodeInfo) (int64, *framework.Status) {
	return f.scores[ni.Node().Name], nil
}
func (f fakePlugin) ScoreExtensions() framework.ScoreExtensions { return nil }

type nilHandle struct{}

func (nilHandle) SnapshotSharedLister() framework.NodeInfoLister { return nil }
func (nilHandle) NamespaceLabels(string) labels.Set              { return nil }
func (nilHandle) DefaultSelector(*v1.Pod) labels.Selector        { return labels.Nothing() }

func TestFrameworkRunsPluginsWithWeights(t *testing.T) {
	t.Parallel()
	reg := framework.Registry{
		"A": func(framework.Handle) (framework.Plugin, error) {
			return fakePlugin{name: "A", reject: "n3", scores: map[string]int64{"n1": 10, "n2": 20}}, nil
		},
		"B": func(framework.Handle) (framework.Plugin, error) {
			return fakePlugin{name: "B", scores: map[string]int64{"n1": 50, "n2": 10}}, nil
		},
	}
	fwk, err := framework.New(framework.ProfileConfig{SchedulerName: "s", Filter: []string{"A", "B"},
		Score: []framework.WeightedPlugin{{Name: "A", Weight: 3}, {Name: "B", Weight: 1}}}, reg, nilHandle{})
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*framework.NodeInfo
	for _, n := range []string{"n1", "n2", "n3"} {
		ni := framework.NewNodeInfo()
		ni.SetNode(st.MakeNode(n).Obj())
		nodes = append(nodes, ni)
	}
	state := framework.NewCycleState()
	pod := st.MakePod("ns", "p").Obj()
	if s := fwk.RunFilterPlugins(context.Background(), state, pod, nodes[2]); s.Plugin() != "A" || s.Message() != "rejected by A" {
		t.Fatalf("filter n3: %v %q", s.Plugin(), s.Message())
	}
	scores, s := fwk.RunScorePlugins(context.Background(), state, pod, nodes[:2])
	if !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	if scores[0].Score != 3*10+50 || scores[1].Score != 3*20+10 {
		t.Fatalf("scores %v", scores)
	}
	if _, err := framework.New(framework.ProfileConfig{Filter: []string{"Missing"}}, reg, nilHandle{}); err == nil {
		t.Fatal("unknown plugin accepted")
	}
}

func TestHostPortConflicts(t *testing.T) {
	t.Parallel()
	h := framework.HostPortInfo{}
	h.Add("10.0.0.1", "TCP", 80)
	tests := []struct {
		ip, proto string
		port      int32
		want      bool
	}{
		{"10.0.0.1", "TCP", 80, true}, {"10.0.0.2", "TCP", 80, false}, {"", "TCP", 80, true},
		{"10.0.0.1", "UDP", 80, false}, {"10.0.0.1", "", 80, true}, {"10.0.0.1", "TCP", 81, false},
	}
	for _, tt := range tests {
		if got := h.CheckConflict(tt.ip, tt.proto, tt.port); got != tt.want {
			t.Errorf("CheckConflict(%q, %q, %d) = %v, want %v", tt.ip, tt.proto, tt.port, got, tt.want)
		}
	}
}
