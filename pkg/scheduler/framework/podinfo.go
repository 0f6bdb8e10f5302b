package framework

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
)

// PodInfo is a pod with what the plugins derive from it computed once: its
// requests and its parsed (anti-)affinity terms. It is immutable once made.
type PodInfo struct {
	Pod *v1.Pod
	// Requests is PodRequests(Pod); NonZeroCPU/NonZeroMemory are
	// PodNonZeroRequests(Pod).
	Requests                   *Resource
	NonZeroCPU, NonZeroMemory  int64
	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
	// ParseError is set when a term's selector does not parse; plugins
	// reject such a pod.
	ParseError error
}

// AffinityTerm is a parsed v1.PodAffinityTerm.
type AffinityTerm struct {
	Namespaces sets.Set[string]
	Selector   labels.Selector
	// NamespaceSelector selects further namespaces by their labels; nil
	// selects none.
	NamespaceSelector labels.Selector
	TopologyKey       string
}

// WeightedAffinityTerm is a parsed preferred term with its weight.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// Matches reports whether pod is in one of the term's namespaces and
// matches its selector. nsLabels are the labels of pod's namespace (used
// only when the term has a NamespaceSelector).
func (t *AffinityTerm) Matches(pod *v1.Pod, nsLabels labels.Set) bool {
	if t.Namespaces.Has(pod.Namespace) || (t.NamespaceSelector != nil && t.NamespaceSelector.Matches(nsLabels)) {
		return t.Selector.Matches(labels.Set(pod.Labels))
	}
	return false
}

// NewPodInfo computes a PodInfo.
func NewPodInfo(pod *v1.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod, Requests: PodRequests(pod)}
	pi.NonZeroCPU, pi.NonZeroMemory = PodNonZeroRequests(pod)
	aff := pod.Spec.Affinity
	if aff == nil {
		return pi
	}
	var err error
	if a := aff.PodAffinity; a != nil {
		if pi.RequiredAffinityTerms, err = parseTerms(pod, a.RequiredDuringSchedulingIgnoredDuringExecution); err != nil {
			pi.ParseError = err
		}
		if pi.PreferredAffinityTerms, err = parseWeighted(pod, a.PreferredDuringSchedulingIgnoredDuringExecution); err != nil {
			pi.ParseError = err
		}
	}
	if a := aff.PodAntiAffinity; a != nil {
		if pi.RequiredAntiAffinityTerms, err = parseTerms(pod, a.RequiredDuringSchedulingIgnoredDuringExecution); err != nil {
			pi.ParseError = err
		}
		if pi.PreferredAntiAffinityTerms, err = parseWeighted(pod, a.PreferredDuringSchedulingIgnoredDuringExecution); err != nil {
			pi.ParseError = err
		}
	}
	return pi
}

func parseTerms(pod *v1.Pod, terms []v1.PodAffinityTerm) ([]AffinityTerm, error) {
	out := make([]AffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := newAffinityTerm(pod, &terms[i])
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func parseWeighted(pod *v1.Pod, terms []v1.WeightedPodAffinityTerm) ([]WeightedAffinityTerm, error) {
	out := make([]WeightedAffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := newAffinityTerm(pod, &terms[i].PodAffinityTerm)
		if err != nil {
			return nil, err
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: terms[i].Weight})
	}
	return out, nil
}

// newAffinityTerm parses a term as upstream: no namespaces and no
// namespaceSelector mean the pod's own namespace; an empty
// namespaceSelector means every namespace.
func newAffinityTerm(pod *v1.Pod, term *v1.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("parsing pod affinity term selector: %w", err)
	}
	t := AffinityTerm{Namespaces: sets.New(term.Namespaces...), Selector: sel, TopologyKey: term.TopologyKey}
	if term.NamespaceSelector != nil {
		if t.NamespaceSelector, err = metav1.LabelSelectorAsSelector(term.NamespaceSelector); err != nil {
			return AffinityTerm{}, fmt.Errorf("parsing pod affinity term namespace selector: %w", err)
		}
	} else if len(term.Namespaces) == 0 {
		t.Namespaces.Insert(pod.Namespace)
	}
	return t, nil
}
