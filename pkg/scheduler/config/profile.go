package config

import (
	"fmt"
	"slices"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// defaultFilter is upstream's default filter order, restricted to the
// plugins kinc implements.
func defaultFilter() []string {
	return []string{"NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
		"NodeResourcesFit", "PodTopologySpread", "InterPodAffinity"}
}

// defaultScore is upstream's default score plugins and weights, restricted
// to the plugins kinc implements.
func defaultScore() []framework.WeightedPlugin {
	return []framework.WeightedPlugin{{Name: "TaintToleration", Weight: 3}, {Name: "NodeAffinity", Weight: 2},
		{Name: "NodeResourcesFit", Weight: 1}, {Name: "PodTopologySpread", Weight: 2}, {Name: "InterPodAffinity", Weight: 2},
		{Name: "NodeResourcesBalancedAllocation", Weight: 1}}
}

// filterPlugin and scorePlugin report the plugins kinc implements per point.
func filterPlugin(name string) bool { return slices.Contains(defaultFilter(), name) }

func scorePlugin(name string) bool {
	return slices.ContainsFunc(defaultScore(), func(w framework.WeightedPlugin) bool { return w.Name == name })
}

// builtin reports upstream plugins whose job kinc does in the scheduler
// itself (queue order, binding, scheduling gates) or not at all yet
// (preemption): they may be named, but enabling them changes nothing.
func builtin(name string) bool {
	return slices.Contains([]string{"PrioritySort", "DefaultBinder", "DefaultPreemption", "SchedulingGates"}, name)
}

// unimplemented reports upstream plugins kinc does not have: disabling
// them is fine, enabling them is an error.
func unimplemented(name string) bool {
	return slices.Contains([]string{"VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding", "VolumeZone", "ImageLocality",
		"DynamicResources", "NodeDeclaredFeatures"}, name)
}

func known(name string) bool {
	return filterPlugin(name) || scorePlugin(name) || builtin(name) || unimplemented(name)
}

// Resolve turns a profile's enable/disable lists into the plugins to run:
// the defaults, minus what multiPoint or the point disables ("*": all
// defaults), plus what multiPoint (where the plugin fits) or the point
// enables. Enabling a known plugin at a point it does not implement, an
// unimplemented plugin, or an unknown name is an error.
func Resolve(p *Profile, percentage int32) (framework.ProfileConfig, error) {
	out := framework.ProfileConfig{SchedulerName: *p.SchedulerName, PercentageOfNodesToScore: percentage}
	if p.PercentageOfNodesToScore != nil {
		out.PercentageOfNodesToScore = *p.PercentageOfNodesToScore
	}
	for _, pc := range p.PluginConfig {
		if !known(pc.Name) {
			return out, fmt.Errorf("pluginConfig: unknown plugin %q", pc.Name)
		}
		if len(pc.Args) > 0 && string(pc.Args) != "null" && string(pc.Args) != "{}" {
			return out, fmt.Errorf("pluginConfig %q: plugin arguments are not supported", pc.Name)
		}
	}
	plugins := p.Plugins
	if plugins == nil {
		plugins = &Plugins{}
	}
	for _, set := range []PluginSet{plugins.PreEnqueue, plugins.QueueSort, plugins.PreFilter, plugins.Filter,
		plugins.PostFilter, plugins.PreScore, plugins.Score, plugins.Reserve, plugins.Permit, plugins.PreBind,
		plugins.Bind, plugins.PostBind, plugins.MultiPoint} {
		for _, pl := range append(append([]Plugin(nil), set.Enabled...), set.Disabled...) {
			if pl.Name != "*" && !known(pl.Name) {
				return out, fmt.Errorf("unknown plugin %q", pl.Name)
			}
		}
		for _, pl := range set.Enabled {
			if unimplemented(pl.Name) {
				return out, fmt.Errorf("plugin %q is not implemented by kinc's scheduler", pl.Name)
			}
		}
	}
	var err error
	if out.Filter, err = resolveFilter(plugins); err != nil {
		return out, err
	}
	if out.Score, err = resolveScore(plugins); err != nil {
		return out, err
	}
	return out, nil
}

func disabled(sets []PluginSet, name string) bool {
	for _, s := range sets {
		for _, d := range s.Disabled {
			if d.Name == "*" || d.Name == name {
				return true
			}
		}
	}
	return false
}

func resolveFilter(p *Plugins) ([]string, error) {
	var out []string
	for _, n := range defaultFilter() {
		if !disabled([]PluginSet{p.MultiPoint, p.Filter}, n) {
			out = append(out, n)
		}
	}
	for _, pl := range p.MultiPoint.Enabled {
		if filterPlugin(pl.Name) && !slices.Contains(out, pl.Name) {
			out = append(out, pl.Name)
		}
	}
	for _, pl := range p.Filter.Enabled {
		if !filterPlugin(pl.Name) {
			return nil, fmt.Errorf("filter: plugin %q does not filter", pl.Name)
		}
		if !slices.Contains(out, pl.Name) {
			out = append(out, pl.Name)
		}
	}
	return out, nil
}

func resolveScore(p *Plugins) ([]framework.WeightedPlugin, error) {
	var out []framework.WeightedPlugin
	index := func(name string) int {
		return slices.IndexFunc(out, func(w framework.WeightedPlugin) bool { return w.Name == name })
	}
	for _, w := range defaultScore() {
		if !disabled([]PluginSet{p.MultiPoint, p.Score}, w.Name) {
			out = append(out, w)
		}
	}
	enable := func(pl Plugin) {
		w := framework.WeightedPlugin{Name: pl.Name, Weight: 1}
		defaults := defaultScore()
		if i := slices.IndexFunc(defaults, func(d framework.WeightedPlugin) bool { return d.Name == pl.Name }); i >= 0 {
			w.Weight = defaults[i].Weight
		}
		if pl.Weight != nil {
			w.Weight = *pl.Weight
		}
		if i := index(pl.Name); i >= 0 {
			out[i] = w
		} else {
			out = append(out, w)
		}
	}
	for _, pl := range p.MultiPoint.Enabled {
		if scorePlugin(pl.Name) {
			enable(pl)
		}
	}
	for _, pl := range p.Score.Enabled {
		if !scorePlugin(pl.Name) {
			return nil, fmt.Errorf("score: plugin %q does not score", pl.Name)
		}
		if pl.Weight != nil && *pl.Weight <= 0 {
			return nil, fmt.Errorf("score: plugin %q: weight must be positive", pl.Name)
		}
		enable(pl)
	}
	return out, nil
}
