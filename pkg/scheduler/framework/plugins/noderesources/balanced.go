package noderesources

import (
	"context"
	"math"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// BalancedAllocationName is the NodeResourcesBalancedAllocation plugin's name.
const BalancedAllocationName = "NodeResourcesBalancedAllocation"

const balancedStateKey framework.StateKey = "PreScore" + BalancedAllocationName

// BalancedAllocation is the NodeResourcesBalancedAllocation plugin: it
// favours nodes whose cpu and memory would be used in equal fractions.
type BalancedAllocation struct{}

var (
	_ framework.PreScorePlugin = BalancedAllocation{}
	_ framework.ScorePlugin    = BalancedAllocation{}
)

// NewBalancedAllocation returns the plugin.
func NewBalancedAllocation(framework.Handle) (framework.Plugin, error) {
	return BalancedAllocation{}, nil
}

// Name returns BalancedAllocationName.
func (BalancedAllocation) Name() string { return BalancedAllocationName }

type balancedState struct{ req *framework.Resource }

func (s balancedState) Clone() framework.StateData { return s }

// PreScore skips a pod that requests neither cpu nor memory (every node
// would score the same), as upstream.
func (BalancedAllocation) PreScore(_ context.Context, state *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) *framework.Status {
	req := framework.PodRequests(pod)
	if req.MilliCPU == 0 && req.Memory == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(balancedStateKey, balancedState{req})
	return nil
}

// Score is (1 − the standard deviation of the cpu and memory fractions
// requested after placing the pod) × 100.
func (BalancedAllocation) Score(_ context.Context, state *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	var req *framework.Resource
	if d, err := state.Read(balancedStateKey); err == nil {
		req = d.(balancedState).req
	} else {
		req = framework.PodRequests(pod)
	}
	fraction := func(requested, capacity int64) float64 {
		if capacity == 0 {
			return 1
		}
		return math.Min(float64(requested)/float64(capacity), 1)
	}
	cpu := fraction(nodeInfo.Requested.MilliCPU+req.MilliCPU, nodeInfo.Allocatable.MilliCPU)
	mem := fraction(nodeInfo.Requested.Memory+req.Memory, nodeInfo.Allocatable.Memory)
	std := math.Abs(cpu-mem) / 2
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}

// ScoreExtensions returns nil: scores are already in [0, 100].
func (BalancedAllocation) ScoreExtensions() framework.ScoreExtensions { return nil }
