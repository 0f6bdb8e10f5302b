// Package tainttoleration is the TaintToleration plugin: Filter rejects a
// node with a NoSchedule or NoExecute taint the pod does not tolerate (the
// control-plane and not-ready taints among them); Score prefers nodes with
// fewer untolerated PreferNoSchedule taints.
package tainttoleration

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/helper"
)

// Name is the plugin's name.
const Name = "TaintToleration"

const preScoreStateKey framework.StateKey = "PreScore" + Name

// TaintToleration is the plugin.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin   = TaintToleration{}
	_ framework.PreScorePlugin = TaintToleration{}
	_ framework.ScorePlugin    = TaintToleration{}
)

// New returns the plugin.
func New(framework.Handle) (framework.Plugin, error) { return TaintToleration{}, nil }

// Name returns Name.
func (TaintToleration) Name() string { return Name }

// Filter rejects the node when a NoSchedule or NoExecute taint is not
// tolerated, naming the taint as upstream does.
func (TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	taint, found := helper.FindUntoleratedTaint(nodeInfo.Node().Spec.Taints, pod.Spec.Tolerations, helper.DoNotScheduleTaints)
	if !found {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable,
		fmt.Sprintf("node(s) had untolerated taint {%s: %s}", taint.Key, taint.Value))
}

type preScoreState struct{ tolerations []v1.Toleration }

func (s *preScoreState) Clone() framework.StateData { return s }

// PreScore keeps the tolerations that can tolerate PreferNoSchedule taints.
func (TaintToleration) PreScore(_ context.Context, state *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) *framework.Status {
	var tols []v1.Toleration
	for _, t := range pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == v1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	state.Write(preScoreStateKey, &preScoreState{tolerations: tols})
	return nil
}

// Score counts the untolerated PreferNoSchedule taints (fewer is better
// once normalized).
func (TaintToleration) Score(_ context.Context, state *framework.CycleState, _ *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	tols := d.(*preScoreState).tolerations
	var n int64
	for i := range nodeInfo.Node().Spec.Taints {
		t := &nodeInfo.Node().Spec.Taints[i]
		if t.Effect == v1.TaintEffectPreferNoSchedule && !helper.TolerationsTolerateTaint(tols, t) {
			n++
		}
	}
	return n, nil
}

// ScoreExtensions returns the plugin: it normalizes.
func (p TaintToleration) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps the counts to [0, 100], fewest taints highest.
func (TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}
