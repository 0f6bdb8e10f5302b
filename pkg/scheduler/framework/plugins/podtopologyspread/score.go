package podtopologyspread

import (
	"context"
	"math"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

const preScoreStateKey framework.StateKey = "PreScore" + Name

// invalidScore marks a node without every constraint's key.
const invalidScore = -1

type preScoreState struct {
	constraints []constraint
	counts      []map[string]int64
	// weights[i] is log(domains of constraint i + 2), as upstream.
	weights []float64
	ignored map[string]bool
}

func (s *preScoreState) Clone() framework.StateData { return s }

// systemDefaultConstraints are upstream's defaults for pods with no
// constraints of their own (defaultingType: System), over the pods their
// services and controller select.
func systemDefaultConstraints(sel labels.Selector) []constraint {
	c := func(key string, skew int32) constraint {
		return constraint{MaxSkew: skew, TopologyKey: key, Selector: sel, MinDomains: 1,
			NodeAffinityPolicy: v1.NodeInclusionPolicyHonor, NodeTaintsPolicy: v1.NodeInclusionPolicyIgnore}
	}
	return []constraint{c(v1.LabelHostname, 3), c(v1.LabelTopologyZone, 5)}
}

// PreScore counts matching pods per domain for the ScheduleAnyway
// constraints, over every node the constraint includes. A pod without
// constraints gets the system defaults when a service or controller
// selects it; then nodes lacking a topology key just skip that constraint
// instead of being ignored.
func (p *PodTopologySpread) PreScore(_ context.Context, state *framework.CycleState, pod *v1.Pod, feasible []*framework.NodeInfo) *framework.Status {
	cs, err := constraints(pod, v1.ScheduleAnyway)
	if err != nil {
		return framework.AsStatus(err)
	}
	requireAllKeys := true
	if len(pod.Spec.TopologySpreadConstraints) == 0 {
		if sel := p.h.DefaultSelector(pod); sel != nil && !sel.Empty() {
			cs, requireAllKeys = systemDefaultConstraints(sel), false
		}
	}
	if len(cs) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &preScoreState{constraints: cs, counts: make([]map[string]int64, len(cs)),
		weights: make([]float64, len(cs)), ignored: map[string]bool{}}
	for i := range s.counts {
		s.counts[i] = map[string]int64{}
	}
	for _, ni := range feasible {
		if requireAllKeys && !hasAllKeys(ni.Node(), cs) {
			s.ignored[ni.Node().Name] = true
		}
	}
	for _, ni := range p.h.SnapshotSharedLister().List() {
		node := ni.Node()
		if requireAllKeys && !hasAllKeys(node, cs) {
			continue
		}
		for i := range cs {
			v, ok := node.Labels[cs[i].TopologyKey]
			if ok && cs[i].includes(pod, node) {
				s.counts[i][v] += countMatching(ni.Pods, cs[i].Selector, pod.Namespace)
			}
		}
	}
	for i := range cs {
		domains := len(s.counts[i])
		if cs[i].TopologyKey == v1.LabelHostname {
			domains = len(feasible) - len(s.ignored)
		}
		s.weights[i] = math.Log(float64(domains + 2))
	}
	state.Write(preScoreStateKey, s)
	return nil
}

// Score sums, over the constraints whose key the node has, the node's
// domain count times the constraint's weight plus maxSkew−1; fewer is
// better once normalized.
func (p *PodTopologySpread) Score(_ context.Context, state *framework.CycleState, _ *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	s := d.(*preScoreState)
	node := nodeInfo.Node()
	if s.ignored[node.Name] {
		return invalidScore, nil
	}
	var score float64
	for i, c := range s.constraints {
		v, ok := node.Labels[c.TopologyKey]
		if !ok {
			continue
		}
		score += float64(s.counts[i][v])*s.weights[i] + float64(c.MaxSkew-1)
	}
	return int64(math.Round(score)), nil
}

// ScoreExtensions returns the plugin: it normalizes.
func (p *PodTopologySpread) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps scores to [0, 100], the lowest highest; ignored
// nodes get 0.
func (p *PodTopologySpread) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *framework.Status {
	var lo, hi int64 = math.MaxInt64, 0
	for _, s := range scores {
		if s.Score == invalidScore {
			continue
		}
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		switch {
		case scores[i].Score == invalidScore:
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
