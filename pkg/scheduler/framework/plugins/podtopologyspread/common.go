// Package podtopologyspread is the PodTopologySpread plugin: Filter
// enforces the pod's DoNotSchedule topology spread constraints (maxSkew,
// minDomains, matchLabelKeys, nodeAffinityPolicy, nodeTaintsPolicy); Score
// prefers domains with fewer matching pods for ScheduleAnyway constraints,
// or, for a pod without constraints, upstream's system defaults (hostname
// maxSkew 3, zone maxSkew 5) over the pods its services and controller
// select.
package podtopologyspread

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/helper"
)

// Name is the plugin's name.
const Name = "PodTopologySpread"

// Upstream's reasons.
const (
	ErrReasonConstraintsNotMatch = "node(s) didn't match pod topology spread constraints"
	ErrReasonNodeLabelNotMatch   = ErrReasonConstraintsNotMatch + " (missing required label)"
)

// PodTopologySpread is the plugin.
type PodTopologySpread struct{ h framework.Handle }

var (
	_ framework.PreFilterPlugin = (*PodTopologySpread)(nil)
	_ framework.FilterPlugin    = (*PodTopologySpread)(nil)
	_ framework.PreScorePlugin  = (*PodTopologySpread)(nil)
	_ framework.ScorePlugin     = (*PodTopologySpread)(nil)
)

// New returns the plugin.
func New(h framework.Handle) (framework.Plugin, error) { return &PodTopologySpread{h: h}, nil }

// Name returns Name.
func (*PodTopologySpread) Name() string { return Name }

// constraint is a parsed v1.TopologySpreadConstraint.
type constraint struct {
	MaxSkew            int32
	TopologyKey        string
	Selector           labels.Selector
	MinDomains         int32
	NodeAffinityPolicy v1.NodeInclusionPolicy
	NodeTaintsPolicy   v1.NodeInclusionPolicy
}

// constraints parses the pod's constraints with the given action;
// matchLabelKeys add "key in (pod's value)" to the selector.
func constraints(pod *v1.Pod, action v1.UnsatisfiableConstraintAction) ([]constraint, error) {
	var out []constraint
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != action {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("topology spread constraint on %q: %w", c.TopologyKey, err)
		}
		for _, k := range c.MatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				r, err := labels.NewRequirement(k, selection.In, []string{v})
				if err != nil {
					return nil, fmt.Errorf("topology spread constraint on %q: matchLabelKeys: %w", c.TopologyKey, err)
				}
				sel = sel.Add(*r)
			}
		}
		pc := constraint{MaxSkew: c.MaxSkew, TopologyKey: c.TopologyKey, Selector: sel, MinDomains: 1,
			NodeAffinityPolicy: v1.NodeInclusionPolicyHonor, NodeTaintsPolicy: v1.NodeInclusionPolicyIgnore}
		if c.MinDomains != nil {
			pc.MinDomains = *c.MinDomains
		}
		if c.NodeAffinityPolicy != nil {
			pc.NodeAffinityPolicy = *c.NodeAffinityPolicy
		}
		if c.NodeTaintsPolicy != nil {
			pc.NodeTaintsPolicy = *c.NodeTaintsPolicy
		}
		out = append(out, pc)
	}
	return out, nil
}

// includes reports whether a node counts for a constraint under its node
// inclusion policies.
func (c *constraint) includes(pod *v1.Pod, node *v1.Node) bool {
	if c.NodeAffinityPolicy == v1.NodeInclusionPolicyHonor && !helper.PodMatchesNodeSelectorAndAffinityTerms(pod, node) {
		return false
	}
	if c.NodeTaintsPolicy == v1.NodeInclusionPolicyHonor {
		if _, found := helper.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, helper.DoNotScheduleTaints); found {
			return false
		}
	}
	return true
}

// hasAllKeys reports whether the node carries every constraint's key.
func hasAllKeys(node *v1.Node, cs []constraint) bool {
	for _, c := range cs {
		if _, ok := node.Labels[c.TopologyKey]; !ok {
			return false
		}
	}
	return true
}

// countMatching counts the pods of ns that match sel and are not
// terminating.
func countMatching(pods []*framework.PodInfo, sel labels.Selector, ns string) int64 {
	var n int64
	for _, pi := range pods {
		p := pi.Pod
		if p.Namespace != ns || p.DeletionTimestamp != nil {
			continue
		}
		if sel.Matches(labels.Set(p.Labels)) {
			n++
		}
	}
	return n
}
