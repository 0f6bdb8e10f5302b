package framework

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
)

// WeightedPlugin is a plugin name with its score weight.
type WeightedPlugin struct {
	Name   string
	Weight int32
}

// ProfileConfig is a resolved profile: which plugins run at which
// extension point, in order. PreFilter and PreScore of a plugin run when
// the plugin is enabled for Filter or Score respectively and implements
// them, as upstream's multiPoint expansion does.
type ProfileConfig struct {
	SchedulerName string
	Filter        []string
	Score         []WeightedPlugin
	// PercentageOfNodesToScore: 0 means upstream's adaptive default.
	PercentageOfNodesToScore int32
}

type weightedScorePlugin struct {
	ScorePlugin
	weight int64
}

// Framework runs one profile's plugins. It is safe for concurrent use as
// long as each cycle has its own CycleState.
type Framework struct {
	profile   ProfileConfig
	preFilter []PreFilterPlugin
	filter    []FilterPlugin
	preScore  []PreScorePlugin
	score     []weightedScorePlugin
}

// New builds the plugins a profile names from the registry; one instance
// per plugin name serves every extension point.
func New(profile ProfileConfig, registry Registry, h Handle) (*Framework, error) {
	f := &Framework{profile: profile}
	instances := map[string]Plugin{}
	get := func(name string) (Plugin, error) {
		if p, ok := instances[name]; ok {
			return p, nil
		}
		factory, ok := registry[name]
		if !ok {
			return nil, fmt.Errorf("profile %q: unknown plugin %q", profile.SchedulerName, name)
		}
		p, err := factory(h)
		if err != nil {
			return nil, fmt.Errorf("profile %q: initializing plugin %q: %w", profile.SchedulerName, name, err)
		}
		instances[name] = p
		return p, nil
	}
	for _, name := range profile.Filter {
		p, err := get(name)
		if err != nil {
			return nil, err
		}
		fp, ok := p.(FilterPlugin)
		if !ok {
			return nil, fmt.Errorf("profile %q: plugin %q does not filter", profile.SchedulerName, name)
		}
		f.filter = append(f.filter, fp)
		if pf, ok := p.(PreFilterPlugin); ok {
			f.preFilter = append(f.preFilter, pf)
		}
	}
	for _, wp := range profile.Score {
		p, err := get(wp.Name)
		if err != nil {
			return nil, err
		}
		sp, ok := p.(ScorePlugin)
		if !ok {
			return nil, fmt.Errorf("profile %q: plugin %q does not score", profile.SchedulerName, wp.Name)
		}
		w := int64(wp.Weight)
		if w == 0 {
			w = 1
		}
		f.score = append(f.score, weightedScorePlugin{ScorePlugin: sp, weight: w})
		if ps, ok := p.(PreScorePlugin); ok {
			f.preScore = append(f.preScore, ps)
		}
	}
	return f, nil
}

// ProfileName returns the profile's schedulerName.
func (f *Framework) ProfileName() string { return f.profile.SchedulerName }

// PercentageOfNodesToScore returns the profile's setting (0: default).
func (f *Framework) PercentageOfNodesToScore() int32 { return f.profile.PercentageOfNodesToScore }

// HasScorePlugins reports whether any Score plugin is enabled.
func (f *Framework) HasScorePlugins() bool { return len(f.score) > 0 }

// RunPreFilterPlugins runs every PreFilter plugin, recording Skips in state.
// It returns the first rejection or error, tagged with its plugin.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *v1.Pod) *Status {
	for _, p := range f.preFilter {
		s := p.PreFilter(ctx, state, pod)
		switch {
		case s.IsSkip():
			state.SkipFilterPlugins.Insert(p.Name())
		case !s.IsSuccess():
			return s.WithPlugin(p.Name())
		}
	}
	state.filters = make([]FilterPlugin, 0, len(f.filter))
	for _, p := range f.filter {
		if !state.SkipFilterPlugins.Has(p.Name()) {
			state.filters = append(state.filters, p)
		}
	}
	return nil
}

// RunFilterPlugins runs the Filter plugins on one node, stopping at the
// first that does not pass; that status is returned tagged with its plugin.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *v1.Pod, nodeInfo *NodeInfo) *Status {
	filters := state.filters
	if filters == nil { // PreFilter did not run
		filters = f.filter
	}
	for _, p := range filters {
		if s := p.Filter(ctx, state, pod, nodeInfo); !s.IsSuccess() {
			return s.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPreScorePlugins runs every PreScore plugin with the feasible nodes.
func (f *Framework) RunPreScorePlugins(ctx context.Context, state *CycleState, pod *v1.Pod, nodes []*NodeInfo) *Status {
	for _, p := range f.preScore {
		s := p.PreScore(ctx, state, pod, nodes)
		switch {
		case s.IsSkip():
			state.SkipScorePlugins.Insert(p.Name())
		case !s.IsSuccess():
			return s.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunScorePlugins scores the feasible nodes with every Score plugin,
// normalizes each plugin's scores, applies the weights and returns the
// totals in node order.
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *v1.Pod, nodes []*NodeInfo) (NodeScoreList, *Status) {
	total := make(NodeScoreList, len(nodes))
	for i, n := range nodes {
		total[i].Name = n.Node().Name
	}
	scores := make(NodeScoreList, len(nodes))
	for _, p := range f.score {
		if state.SkipScorePlugins.Has(p.Name()) {
			continue
		}
		for i, n := range nodes {
			s, st := p.Score(ctx, state, pod, n)
			if !st.IsSuccess() {
				return nil, st.WithPlugin(p.Name())
			}
			scores[i] = NodeScore{Name: n.Node().Name, Score: s}
		}
		if ext := p.ScoreExtensions(); ext != nil {
			if st := ext.NormalizeScore(ctx, state, pod, scores); !st.IsSuccess() {
				return nil, st.WithPlugin(p.Name())
			}
		}
		for i := range scores {
			if scores[i].Score < MinNodeScore || scores[i].Score > MaxNodeScore {
				return nil, NewStatus(Error, fmt.Sprintf("plugin %q scored node %q %d, outside [%d, %d]",
					p.Name(), scores[i].Name, scores[i].Score, MinNodeScore, MaxNodeScore)).WithPlugin(p.Name())
			}
			total[i].Score += scores[i].Score * p.weight
		}
	}
	return total, nil
}

// DefaultNormalizeScore scales scores so the highest becomes maxPriority
// (or, reversed, the highest becomes 0), as upstream's helper.
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores NodeScoreList) {
	var maxCount int64
	for i := range scores {
		maxCount = max(maxCount, scores[i].Score)
	}
	if maxCount == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return
	}
	for i := range scores {
		s := scores[i].Score * maxPriority / maxCount
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
}
