package helper

import (
	"fmt"
	"strconv"

	v1 "k8s.io/api/core/v1"
)

// PodMatchesNodeSelectorAndAffinityTerms reports whether node satisfies the
// pod's spec.nodeSelector and its required node affinity, as upstream's
// NodeAffinity filter decides. A malformed requirement matches nothing.
func PodMatchesNodeSelectorAndAffinityTerms(pod *v1.Pod, node *v1.Node) bool {
	for k, v := range pod.Spec.NodeSelector {
		if lv, ok := node.Labels[k]; !ok || lv != v {
			return false
		}
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	ok, _ := NodeSelectorTermsMatch(node, a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms)
	return ok
}

// NodeSelectorTermsMatch reports whether node matches any of the terms (the
// terms are ORed; a term's requirements are ANDed; an empty term matches
// nothing). The error names the first malformed requirement.
func NodeSelectorTermsMatch(node *v1.Node, terms []v1.NodeSelectorTerm) (bool, error) {
	var firstErr error
	for i := range terms {
		ok, err := NodeSelectorTermMatches(node, &terms[i])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if ok {
			return true, nil
		}
	}
	return false, firstErr
}

// NodeSelectorTermMatches reports whether node matches every expression
// and field requirement of term; an empty term matches nothing.
func NodeSelectorTermMatches(node *v1.Node, term *v1.NodeSelectorTerm) (bool, error) {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return false, nil
	}
	for _, r := range term.MatchExpressions {
		ok, err := RequirementMatches(r, node.Labels)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, r := range term.MatchFields {
		if r.Key != "metadata.name" {
			return false, fmt.Errorf("not a valid field selector key %q: only metadata.name", r.Key)
		}
		if r.Operator != v1.NodeSelectorOpIn && r.Operator != v1.NodeSelectorOpNotIn {
			return false, fmt.Errorf("field selector operator %q: only In and NotIn", r.Operator)
		}
		if len(r.Values) != 1 {
			return false, fmt.Errorf("field selector %q needs exactly one value", r.Key)
		}
		ok, err := RequirementMatches(r, map[string]string{"metadata.name": node.Name})
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// RequirementMatches evaluates one requirement against a label set, with
// every operator: In, NotIn (true when the label is absent), Exists,
// DoesNotExist, Gt and Lt (one integer value; false when the label is
// absent or not an integer).
func RequirementMatches(r v1.NodeSelectorRequirement, lbls map[string]string) (bool, error) {
	v, has := lbls[r.Key]
	switch r.Operator {
	case v1.NodeSelectorOpIn:
		if len(r.Values) == 0 {
			return false, fmt.Errorf("operator In on %q needs values", r.Key)
		}
		return has && contains(r.Values, v), nil
	case v1.NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			return false, fmt.Errorf("operator NotIn on %q needs values", r.Key)
		}
		return !has || !contains(r.Values, v), nil
	case v1.NodeSelectorOpExists:
		if len(r.Values) != 0 {
			return false, fmt.Errorf("operator Exists on %q takes no values", r.Key)
		}
		return has, nil
	case v1.NodeSelectorOpDoesNotExist:
		if len(r.Values) != 0 {
			return false, fmt.Errorf("operator DoesNotExist on %q takes no values", r.Key)
		}
		return !has, nil
	case v1.NodeSelectorOpGt, v1.NodeSelectorOpLt:
		if len(r.Values) != 1 {
			return false, fmt.Errorf("operator %s on %q needs exactly one value", r.Operator, r.Key)
		}
		want, err := strconv.ParseInt(r.Values[0], 10, 64)
		if err != nil {
			return false, fmt.Errorf("operator %s on %q: value %q is not an integer", r.Operator, r.Key, r.Values[0])
		}
		if !has {
			return false, nil
		}
		got, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false, nil
		}
		if r.Operator == v1.NodeSelectorOpGt {
			return got > want, nil
		}
		return got < want, nil
	default:
		return false, fmt.Errorf("unknown node selector operator %q", r.Operator)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
