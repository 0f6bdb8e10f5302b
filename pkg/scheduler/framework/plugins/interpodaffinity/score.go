package interpodaffinity

import (
	"context"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

const preScoreStateKey framework.StateKey = "PreScore" + Name

type preScoreState struct {
	// topologyScore: topology key → value → summed weight.
	topologyScore map[string]map[string]int64
}

func (s *preScoreState) Clone() framework.StateData { return s }

func (s *preScoreState) add(node *v1.Node, key string, w int64) {
	v, ok := node.Labels[key]
	if !ok || w == 0 {
		return
	}
	m := s.topologyScore[key]
	if m == nil {
		m = map[string]int64{}
		s.topologyScore[key] = m
	}
	m[v] += w
}

// PreScore sums, per topology domain, the weights of preferred terms
// between the incoming pod and every placed pod (both directions), minus
// anti-affinity weights.
func (p *InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *v1.Pod, _ []*framework.NodeInfo) *framework.Status {
	pi := framework.NewPodInfo(pod)
	if pi.ParseError != nil {
		return framework.AsStatus(pi.ParseError)
	}
	lister := p.h.SnapshotSharedLister()
	hasPreferred := len(pi.PreferredAffinityTerms) > 0 || len(pi.PreferredAntiAffinityTerms) > 0
	nodes := lister.HavePodsWithAffinityList()
	if hasPreferred {
		nodes = lister.List()
	}
	s := &preScoreState{topologyScore: map[string]map[string]int64{}}
	podNS := p.nsLabels(pod.Namespace)
	for _, ni := range nodes {
		pods := ni.PodsWithAffinity
		if hasPreferred {
			pods = ni.Pods
		}
		node := ni.Node()
		for _, existing := range pods {
			ns := p.nsLabels(existing.Pod.Namespace)
			for i := range pi.PreferredAffinityTerms {
				if t := &pi.PreferredAffinityTerms[i]; t.Matches(existing.Pod, ns) {
					s.add(node, t.TopologyKey, int64(t.Weight))
				}
			}
			for i := range pi.PreferredAntiAffinityTerms {
				if t := &pi.PreferredAntiAffinityTerms[i]; t.Matches(existing.Pod, ns) {
					s.add(node, t.TopologyKey, -int64(t.Weight))
				}
			}
			for i := range existing.RequiredAffinityTerms {
				if t := &existing.RequiredAffinityTerms[i]; t.Matches(pod, podNS) {
					s.add(node, t.TopologyKey, hardPodAffinityWeight)
				}
			}
			for i := range existing.PreferredAffinityTerms {
				if t := &existing.PreferredAffinityTerms[i]; t.Matches(pod, podNS) {
					s.add(node, t.TopologyKey, int64(t.Weight))
				}
			}
			for i := range existing.PreferredAntiAffinityTerms {
				if t := &existing.PreferredAntiAffinityTerms[i]; t.Matches(pod, podNS) {
					s.add(node, t.TopologyKey, -int64(t.Weight))
				}
			}
		}
	}
	if len(s.topologyScore) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preScoreStateKey, s)
	return nil
}

// Score sums the node's domains' weights.
func (p *InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *v1.Pod, nodeInfo *framework.NodeInfo) (int64, *framework.Status) {
	d, err := state.Read(preScoreStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var score int64
	for key, values := range d.(*preScoreState).topologyScore {
		if v, ok := nodeInfo.Node().Labels[key]; ok {
			score += values[v]
		}
	}
	return score, nil
}

// ScoreExtensions returns the plugin: it normalizes.
func (p *InterPodAffinity) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps [min, max] linearly onto [0, 100].
func (p *InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1.Pod, scores framework.NodeScoreList) *framework.Status {
	if len(scores) == 0 {
		return nil
	}
	lo, hi := scores[0].Score, scores[0].Score
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		if hi > lo {
			scores[i].Score = framework.MaxNodeScore * (scores[i].Score - lo) / (hi - lo)
		} else {
			scores[i].Score = 0
		}
	}
	return nil
}
