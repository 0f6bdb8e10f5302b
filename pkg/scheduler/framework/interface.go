package framework

import (
	"context"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Score bounds: every Score plugin's normalized score is in
// [MinNodeScore, MaxNodeScore] before its weight is applied.
const (
	MinNodeScore int64 = 0
	MaxNodeScore int64 = 100
)

// Plugin is anything a profile can enable. Names are upstream's
// (NodeResourcesFit, TaintToleration, …) so configurations carry over.
type Plugin interface {
	Name() string
}

// PreFilterPlugin runs once per scheduling cycle before Filter. It may
// compute state for Filter into the CycleState. Rejecting here rejects every
// node; Skip skips the plugin's Filter for this cycle.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *v1.Pod) *Status
}

// FilterPlugin decides whether pod fits on one node. It is called
// concurrently for different nodes and must only read state and nodeInfo.
// A nil or Success status means the node fits.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *v1.Pod, nodeInfo *NodeInfo) *Status
}

// PreScorePlugin runs once per cycle with the feasible nodes before Score;
// Skip skips the plugin's Score for this cycle.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *v1.Pod, nodes []*NodeInfo) *Status
}

// ScorePlugin ranks a feasible node; it is called concurrently for
// different nodes. Unless the plugin normalizes (ScoreExtensions non-nil),
// scores must be within [MinNodeScore, MaxNodeScore].
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *v1.Pod, nodeInfo *NodeInfo) (int64, *Status)
	// ScoreExtensions returns nil when the scores need no normalizing.
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions normalizes one plugin's scores over all feasible nodes,
// in place, into [MinNodeScore, MaxNodeScore].
type ScoreExtensions interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *v1.Pod, scores NodeScoreList) *Status
}

// NodeScore is a node's score from one plugin or in total.
type NodeScore struct {
	Name  string
	Score int64
}

// NodeScoreList holds one score per feasible node, in node order.
type NodeScoreList []NodeScore

// NodeInfoLister gives plugins the cycle's snapshot of every node. Lists
// are shared and read-only.
type NodeInfoLister interface {
	// List returns every node in the snapshot.
	List() []*NodeInfo
	// HavePodsWithAffinityList returns the nodes with at least one pod that
	// has pod affinity or anti-affinity.
	HavePodsWithAffinityList() []*NodeInfo
	// HavePodsWithRequiredAntiAffinityList returns the nodes with at least
	// one pod that has required pod anti-affinity.
	HavePodsWithRequiredAntiAffinityList() []*NodeInfo
	// Get returns a node by name; an error when it is not in the snapshot.
	Get(nodeName string) (*NodeInfo, error)
}

// Handle is what plugins may use of the scheduler. Its methods are safe for
// concurrent use during a cycle.
type Handle interface {
	// SnapshotSharedLister returns the current cycle's snapshot.
	SnapshotSharedLister() NodeInfoLister
	// NamespaceLabels returns the labels of a namespace (nil when unknown),
	// for pod affinity terms with a namespaceSelector.
	NamespaceLabels(namespace string) labels.Set
	// DefaultSelector returns the selector of the pods "like" pod (those of
	// the services selecting it and of its controller) for default topology
	// spreading; empty when nothing selects or owns the pod.
	DefaultSelector(pod *v1.Pod) labels.Selector
}

// PluginFactory builds a plugin for a profile.
type PluginFactory func(h Handle) (Plugin, error)

// Registry maps plugin names to factories.
type Registry map[string]PluginFactory
