// Package interpodaffinity is the InterPodAffinity plugin: Filter enforces
// the pod's required pod affinity and anti-affinity and the required
// anti-affinity of pods already placed; Score weighs preferred terms both
// ways (and existing pods' required affinity, with weight 1), per topology
// domain.
package interpodaffinity

import (
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "InterPodAffinity"

// Upstream's reasons.
const (
	ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"
)

// hardPodAffinityWeight is upstream's default weight of an existing pod's
// required affinity term when scoring an incoming pod it matches.
const hardPodAffinityWeight = 1

const preFilterStateKey framework.StateKey = "PreFilter" + Name

// InterPodAffinity is the plugin.
type InterPodAffinity struct{ h framework.Handle }

var (
	_ framework.PreFilterPlugin = (*InterPodAffinity)(nil)
	_ framework.FilterPlugin    = (*InterPodAffinity)(nil)
	_ framework.PreScorePlugin  = (*InterPodAffinity)(nil)
	_ framework.ScorePlugin     = (*InterPodAffinity)(nil)
)

// New returns the plugin.
func New(h framework.Handle) (framework.Plugin, error) { return &InterPodAffinity{h: h}, nil }

// Name returns Name.
func (*InterPodAffinity) Name() string { return Name }

type topologyPair struct{ key, value string }

type topologyCounts map[topologyPair]int64

func (m topologyCounts) add(node *v1.Node, key string, n int64) {
	if v, ok := node.Labels[key]; ok {
		m[topologyPair{key, v}] += n
	}
}

type preFilterState struct {
	podInfo *framework.PodInfo
	// existingAntiAffinityCounts: domains holding a pod whose required
	// anti-affinity matches the incoming pod. affinityCounts: domains
	// holding pods that match all the incoming pod's affinity terms.
	// antiAffinityCounts: domains holding pods matching one of its
	// anti-affinity terms.
	existingAntiAffinityCounts, affinityCounts, antiAffinityCounts topologyCounts
}

func (s *preFilterState) Clone() framework.StateData { return s }

func (p *InterPodAffinity) nsLabels(ns string) labels.Set {
	return p.h.NamespaceLabels(ns)
}

// PreFilter counts, per topology domain, the pods relevant to the
// incoming pod's terms and the existing pods whose anti-affinity it breaks.
func (p *InterPodAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *v1.Pod) *framework.Status {
	pi := framework.NewPodInfo(pod)
	if pi.ParseError != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, pi.ParseError.Error())
	}
	lister := p.h.SnapshotSharedLister()
	s := &preFilterState{podInfo: pi, existingAntiAffinityCounts: topologyCounts{},
		affinityCounts: topologyCounts{}, antiAffinityCounts: topologyCounts{}}
	podNSLabels := p.nsLabels(pod.Namespace)
	for _, ni := range lister.HavePodsWithRequiredAntiAffinityList() {
		for _, existing := range ni.PodsWithRequiredAntiAffinity {
			for i := range existing.RequiredAntiAffinityTerms {
				t := &existing.RequiredAntiAffinityTerms[i]
				if t.Matches(pod, podNSLabels) {
					s.existingAntiAffinityCounts.add(ni.Node(), t.TopologyKey, 1)
				}
			}
		}
	}
	if len(pi.RequiredAffinityTerms) == 0 && len(pi.RequiredAntiAffinityTerms) == 0 {
		if len(s.existingAntiAffinityCounts) == 0 {
			return framework.NewStatus(framework.Skip)
		}
		state.Write(preFilterStateKey, s)
		return nil
	}
	for _, ni := range lister.List() {
		for _, existing := range ni.Pods {
			ns := p.nsLabels(existing.Pod.Namespace)
			if len(pi.RequiredAffinityTerms) > 0 && matchesAllTerms(pi.RequiredAffinityTerms, existing.Pod, ns) {
				for _, t := range pi.RequiredAffinityTerms {
					s.affinityCounts.add(ni.Node(), t.TopologyKey, 1)
				}
			}
			for i := range pi.RequiredAntiAffinityTerms {
				t := &pi.RequiredAntiAffinityTerms[i]
				if t.Matches(existing.Pod, ns) {
					s.antiAffinityCounts.add(ni.Node(), t.TopologyKey, 1)
				}
			}
		}
	}
	state.Write(preFilterStateKey, s)
	return nil
}

func matchesAllTerms(terms []framework.AffinityTerm, pod *v1.Pod, nsLabels labels.Set) bool {
	for i := range terms {
		if !terms[i].Matches(pod, nsLabels) {
			return false
		}
	}
	return len(terms) > 0
}

// Filter applies the counts PreFilter made to one node.
func (p *InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, _ *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	d, err := state.Read(preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	s := d.(*preFilterState)
	node := nodeInfo.Node()
	if !p.satisfyPodAffinity(s, node) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	for _, t := range s.podInfo.RequiredAntiAffinityTerms {
		if v, ok := node.Labels[t.TopologyKey]; ok && s.antiAffinityCounts[topologyPair{t.TopologyKey, v}] > 0 {
			return framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
		}
	}
	for tp, n := range s.existingAntiAffinityCounts {
		if v, ok := node.Labels[tp.key]; ok && v == tp.value && n > 0 {
			return framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)
		}
	}
	return nil
}

// satisfyPodAffinity: every term needs a matching pod in the node's
// domain; the node must carry every term's topology key. The first pod of
// a group that matches its own terms may go anywhere with the keys when no
// pod matches yet.
func (p *InterPodAffinity) satisfyPodAffinity(s *preFilterState, node *v1.Node) bool {
	exist := true
	for _, t := range s.podInfo.RequiredAffinityTerms {
		v, ok := node.Labels[t.TopologyKey]
		if !ok {
			return false
		}
		if s.affinityCounts[topologyPair{t.TopologyKey, v}] <= 0 {
			exist = false
		}
	}
	if exist {
		return true
	}
	pod := s.podInfo.Pod
	return len(s.affinityCounts) == 0 && matchesAllTerms(s.podInfo.RequiredAffinityTerms, pod, p.nsLabels(pod.Namespace))
}
