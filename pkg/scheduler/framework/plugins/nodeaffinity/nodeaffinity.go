// Package nodeaffinity is the NodeAffinity plugin: Filter applies the pod's
// spec.nodeSelector and required node affinity (every operator, matchFields
// on metadata.name); Score sums the weights of the preferred terms a node
// matches.
package nodeaffinity

import (
	"context"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/helper"
)

// Name is the plugin's name.
const Name = "NodeAffinity"

// ErrReasonPod is upstream's reason.
const ErrReasonPod = "node(s) didn't match Pod's node affinity/selector"

// NodeAffinity is the plugin.
type NodeAffinity struct{}

var (
	_ framework.PreFilterPlugin = NodeAffinity{}
	_ framework.FilterPlugin    = NodeAffinity{}
	_ framework.PreScorePlugin  = NodeAffinity{}
	_ framework.ScorePlugin     = NodeAffinity{}
)

// New returns the plugin.
func New(framework.Handle) (framework.Plugin, error) { return NodeAffinity{}, nil }

// Name returns Name.
func (NodeAffinity) Name() string { return Name }

// PreFilter skips Filter for a pod with no selector and no required affinity.
func (NodeAffinity) PreFilter(_ context.Context, _ *framework.CycleState, pod *v1.Pod) *framework.Status {
	a := pod.Spec.Affinity
	if len(pod.Spec.NodeSelector) == 0 && (a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil) {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter rejects nodes that do not match the selector or required affinity.
func (NodeAffinity) Filter(_ context.Context, _ *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if helper.PodMatchesNodeSelectorAndAffinityTerms(pod, nodeInfo.Node()) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonPod)
}

// PreScore skips Score for a pod with no preferred terms.
func (NodeAffinity) PreScore(_ context.Context, _ *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) *framework.Status {
	if len(preferred(pod)) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

func preferred(pod *v1.Pod) []v1.PreferredSchedulingTerm {
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		return a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	}
	return nil
}

// Score sums the weights of the preferred terms the node matches.
func (NodeAffinity) Score(_ context.Context, _ *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	var score int64
	for _, t := range preferred(pod) {
		if t.Weight == 0 {
			continue
		}
		if ok, _ := helper.NodeSelectorTermMatches(nodeInfo.Node(), &t.Preference); ok {
			score += int64(t.Weight)
		}
	}
	return score, nil
}

// ScoreExtensions returns the plugin: it normalizes.
func (p NodeAffinity) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps the sums to [0, 100], highest sum highest.
func (NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}
