package scheduler

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// ErrNoNodesAvailable is upstream's error when the cluster has no nodes.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Diagnosis records why each node was rejected in a cycle.
type Diagnosis struct {
	// NodeToStatus holds the rejecting status of every evaluated node.
	NodeToStatus map[string]*framework.Status
	// UnschedulablePlugins names the plugins that rejected some node.
	UnschedulablePlugins sets.Set[string]
	// PreFilterMsg is set when a PreFilter rejected the pod outright.
	PreFilterMsg string
	// PostFilterMsg is the preemption part of the message.
	PostFilterMsg string
}

// FitError says no node fits a pod; its message is upstream's:
// "0/3 nodes are available: 1 node(s) had untolerated taint {…}, 2
// Insufficient cpu. preemption: 0/3 nodes are available: …".
type FitError struct {
	Pod         *v1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

func (f *FitError) Error() string {
	msg := fmt.Sprintf("0/%v nodes are available:", f.NumAllNodes)
	if f.Diagnosis.PreFilterMsg != "" {
		msg += fmt.Sprintf(" %v.", f.Diagnosis.PreFilterMsg)
	} else if h := histogram(f.Diagnosis.NodeToStatus, func(s *framework.Status) []string { return s.Reasons() }); len(h) > 0 {
		msg += fmt.Sprintf(" %v.", strings.Join(h, ", "))
	}
	if f.Diagnosis.PostFilterMsg != "" {
		msg += fmt.Sprintf(" %v.", f.Diagnosis.PostFilterMsg)
	}
	return msg
}

// histogram counts the reasons over the nodes and renders them as
// "<count> <reason>", sorted as strings (upstream's order).
func histogram(statuses map[string]*framework.Status, reasons func(*framework.Status) []string) []string {
	counts := map[string]int{}
	for _, s := range statuses {
		for _, r := range reasons(s) {
			counts[r]++
		}
	}
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, fmt.Sprintf("%v %v", n, r))
	}
	sort.Strings(out)
	return out
}

// Reasons of upstream's DefaultPreemption that kinc reports.
const (
	preemptionNotHelpful = "Preemption is not helpful for scheduling"
	noPreemptionVictims  = "No preemption victims found for incoming pod"
	preemptionNever      = "not eligible due to preemptionPolicy=Never."
	// kinc's own reason for a node where upstream would look for victims.
	preemptionNotImplemented = "kinc's scheduler does not preempt lower-priority pods"
)

// preemptionMessage renders what upstream's DefaultPreemption reports when
// it evicts nothing. kinc never preempts: a pod with preemptionPolicy Never
// is "not eligible"; nodes rejected for reasons eviction cannot fix are
// "not helpful"; nodes without lower-priority pods have "no victims" (all
// as upstream); nodes with lower-priority pods, where upstream would try
// to preempt, say that kinc does not.
func preemptionMessage(pod *v1.Pod, statuses map[string]*framework.Status, nodes framework.NodeInfoLister, numAllNodes int) string {
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == v1.PreemptNever {
		return "preemption: " + preemptionNever
	}
	prio := podPriority(pod)
	counts := map[string]int{}
	for name, s := range statuses {
		switch {
		case s.Code() == framework.UnschedulableAndUnresolvable:
			counts[preemptionNotHelpful]++
		case hasLowerPriorityPods(nodes, name, prio):
			counts[preemptionNotImplemented]++
		default:
			counts[noPreemptionVictims]++
		}
	}
	h := make([]string, 0, len(counts))
	for r, n := range counts {
		h = append(h, fmt.Sprintf("%v %v", n, r))
	}
	sort.Strings(h)
	return fmt.Sprintf("preemption: 0/%v nodes are available: %v.", numAllNodes, strings.Join(h, ", "))
}

func podPriority(pod *v1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

func hasLowerPriorityPods(nodes framework.NodeInfoLister, name string, prio int32) bool {
	ni, err := nodes.Get(name)
	if err != nil {
		return false
	}
	for _, p := range ni.Pods {
		if podPriority(p.Pod) < prio {
			return true
		}
	}
	return false
}
