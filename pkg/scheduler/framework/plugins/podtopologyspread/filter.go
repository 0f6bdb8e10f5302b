package podtopologyspread

import (
	"context"
	"math"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

const preFilterStateKey framework.StateKey = "PreFilter" + Name

type preFilterState struct {
	constraints []constraint
	// counts[i] maps constraint i's domains (topology values) to the number
	// of matching pods there.
	counts []map[string]int64
}

func (s *preFilterState) Clone() framework.StateData { return s }

// minMatch is the smallest count over constraint i's domains, or 0 when
// there are fewer domains than minDomains.
func (s *preFilterState) minMatch(i int) int64 {
	if int32(len(s.counts[i])) < s.constraints[i].MinDomains {
		return 0
	}
	m := int64(math.MaxInt64)
	for _, n := range s.counts[i] {
		m = min(m, n)
	}
	if m == math.MaxInt64 {
		return 0
	}
	return m
}

// PreFilter counts matching pods per domain over the nodes each
// constraint includes; no DoNotSchedule constraint skips Filter.
func (p *PodTopologySpread) PreFilter(_ context.Context, state *framework.CycleState, pod *v1.Pod) *framework.Status {
	cs, err := constraints(pod, v1.DoNotSchedule)
	if err != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, err.Error())
	}
	if len(cs) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &preFilterState{constraints: cs, counts: make([]map[string]int64, len(cs))}
	for i := range s.counts {
		s.counts[i] = map[string]int64{}
	}
	for _, ni := range p.h.SnapshotSharedLister().List() {
		node := ni.Node()
		if !hasAllKeys(node, cs) {
			continue
		}
		for i := range cs {
			if !cs[i].includes(pod, node) {
				continue
			}
			s.counts[i][node.Labels[cs[i].TopologyKey]] += countMatching(ni.Pods, cs[i].Selector, pod.Namespace)
		}
	}
	state.Write(preFilterStateKey, s)
	return nil
}

// Filter rejects a node lacking a constraint's key, or where placing the
// pod would make its domain's skew exceed maxSkew.
func (p *PodTopologySpread) Filter(_ context.Context, state *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	d, err := state.Read(preFilterStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	s := d.(*preFilterState)
	node := nodeInfo.Node()
	for i, c := range s.constraints {
		v, ok := node.Labels[c.TopologyKey]
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeLabelNotMatch)
		}
		var self int64
		if c.Selector.Matches(labels.Set(pod.Labels)) {
			self = 1
		}
		if skew := s.counts[i][v] + self - s.minMatch(i); skew > int64(c.MaxSkew) {
			return framework.NewStatus(framework.Unschedulable, ErrReasonConstraintsNotMatch)
		}
	}
	return nil
}
