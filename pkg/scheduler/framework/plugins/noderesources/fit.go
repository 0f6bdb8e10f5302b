// Package noderesources holds the resource plugins: NodeResourcesFit
// (Filter: the pod's requests — containers, init containers, overhead —
// fit in the node's allocatable cpu, memory, ephemeral-storage, pod count
// and extended resources; Score: least allocated) and
// NodeResourcesBalancedAllocation (Score: cpu and memory used evenly).
package noderesources

import (
	"context"
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// FitName is the NodeResourcesFit plugin's name.
const FitName = "NodeResourcesFit"

const preFilterStateKey framework.StateKey = "PreFilter" + FitName

// Fit is the NodeResourcesFit plugin.
type Fit struct{}

var (
	_ framework.PreFilterPlugin = Fit{}
	_ framework.FilterPlugin    = Fit{}
	_ framework.ScorePlugin     = Fit{}
)

// NewFit returns the plugin.
func NewFit(framework.Handle) (framework.Plugin, error) { return Fit{}, nil }

// Name returns FitName.
func (Fit) Name() string { return FitName }

type preFilterState struct{ *framework.PodInfo }

func (s preFilterState) Clone() framework.StateData { return s }

// PreFilter computes the pod's requests once for the cycle.
func (Fit) PreFilter(_ context.Context, state *framework.CycleState, pod *v1.Pod) *framework.Status {
	state.Write(preFilterStateKey, preFilterState{framework.NewPodInfo(pod)})
	return nil
}

func podInfo(state *framework.CycleState, pod *v1.Pod) *framework.PodInfo {
	if d, err := state.Read(preFilterStateKey); err == nil {
		return d.(preFilterState).PodInfo
	}
	return framework.NewPodInfo(pod)
}

// InsufficientResource is one resource the node lacks.
type InsufficientResource struct {
	Resource                  v1.ResourceName
	Reason                    string
	Requested, Used, Capacity int64
}

// Filter rejects the node with one reason per resource that does not fit:
// "Too many pods", "Insufficient cpu", "Insufficient memory",
// "Insufficient ephemeral-storage", "Insufficient <extended resource>".
func (Fit) Filter(_ context.Context, state *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	insufficient := Fits(podInfo(state, pod).Requests, nodeInfo)
	if len(insufficient) == 0 {
		return nil
	}
	reasons := make([]string, len(insufficient))
	for i, r := range insufficient {
		reasons[i] = r.Reason
	}
	return framework.NewStatus(framework.Unschedulable, reasons...)
}

// Fits lists what the node lacks for a pod requesting req.
func Fits(req *framework.Resource, nodeInfo *framework.NodeInfo) []InsufficientResource {
	var out []InsufficientResource
	alloc, used := nodeInfo.Allocatable, nodeInfo.Requested
	if n := int64(len(nodeInfo.Pods)) + 1; n > alloc.AllowedPodNumber {
		out = append(out, InsufficientResource{v1.ResourcePods, "Too many pods", 1, int64(len(nodeInfo.Pods)), alloc.AllowedPodNumber})
	}
	check := func(name v1.ResourceName, want, have, total int64) {
		if want > 0 && want > total-have {
			out = append(out, InsufficientResource{name, fmt.Sprintf("Insufficient %v", name), want, have, total})
		}
	}
	check(v1.ResourceCPU, req.MilliCPU, used.MilliCPU, alloc.MilliCPU)
	check(v1.ResourceMemory, req.Memory, used.Memory, alloc.Memory)
	check(v1.ResourceEphemeralStorage, req.EphemeralStorage, used.EphemeralStorage, alloc.EphemeralStorage)
	names := make([]string, 0, len(req.ScalarResources))
	for n := range req.ScalarResources {
		names = append(names, string(n))
	}
	sort.Strings(names)
	for _, n := range names {
		rn := v1.ResourceName(n)
		check(rn, req.ScalarResources[rn], used.ScalarResources[rn], alloc.ScalarResources[rn])
	}
	return out
}

// Score is upstream's default LeastAllocated strategy over cpu and memory
// (weight 1 each): the free fraction after placing the pod, counting
// request-less containers at the default requests, times 100.
func (Fit) Score(_ context.Context, state *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	pi := podInfo(state, pod)
	cpu := leastAllocated(nodeInfo.NonZeroRequested.MilliCPU+pi.NonZeroCPU, nodeInfo.Allocatable.MilliCPU)
	mem := leastAllocated(nodeInfo.NonZeroRequested.Memory+pi.NonZeroMemory, nodeInfo.Allocatable.Memory)
	return (cpu + mem) / 2, nil
}

func leastAllocated(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * framework.MaxNodeScore / capacity
}

// ScoreExtensions returns nil: scores are already in [0, 100].
func (Fit) ScoreExtensions() framework.ScoreExtensions { return nil }
