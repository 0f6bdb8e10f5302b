package bootstrappolicy

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// uncovered returns what of want the rules have do not allow, as upstream's
// rule comparison: each rule of want is broken down into single-verb,
// single-group, single-resource (single-name) or single-URL rules, and
// those no rule of have covers are returned in order.
func uncovered(have, want []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, w := range want {
		for _, atom := range breakdown(w) {
			if !slices.ContainsFunc(have, func(h rbacv1.PolicyRule) bool { return covers(h, atom) }) {
				out = append(out, atom)
			}
		}
	}
	return out
}

// breakdown splits r into rules of one verb on one group's resource (and
// name) or one URL.
func breakdown(r rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, g := range r.APIGroups {
		for _, res := range r.Resources {
			for _, v := range r.Verbs {
				if len(r.ResourceNames) == 0 {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{res}, Verbs: []string{v}})
					continue
				}
				for _, n := range r.ResourceNames {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{res}, Verbs: []string{v},
						ResourceNames: []string{n}})
				}
			}
		}
	}
	for _, u := range r.NonResourceURLs {
		for _, v := range r.Verbs {
			out = append(out, rbacv1.PolicyRule{NonResourceURLs: []string{u}, Verbs: []string{v}})
		}
	}
	return out
}

// covers tells whether owner allows everything atom (a broken-down rule)
// allows: "*" verbs, groups and resources, "*/<subresource>" resources,
// URL prefixes ending in "*", and no resource names meaning every name.
func covers(owner, atom rbacv1.PolicyRule) bool {
	if !hasAllOrStar(owner.Verbs, atom.Verbs, rbacv1.VerbAll) || !hasAllOrStar(owner.APIGroups, atom.APIGroups, rbacv1.APIGroupAll) {
		return false
	}
	for _, res := range atom.Resources {
		if slices.Contains(owner.Resources, rbacv1.ResourceAll) || slices.Contains(owner.Resources, res) {
			continue
		}
		_, sub, ok := strings.Cut(res, "/")
		if !ok || !slices.Contains(owner.Resources, "*/"+sub) {
			return false
		}
	}
	for _, u := range atom.NonResourceURLs {
		if !slices.ContainsFunc(owner.NonResourceURLs, func(o string) bool {
			return o == u || strings.HasSuffix(o, "*") && strings.HasPrefix(u, strings.TrimRight(o, "*"))
		}) {
			return false
		}
	}
	if len(owner.ResourceNames) == 0 {
		return true
	}
	return len(atom.ResourceNames) > 0 && hasAllOrStar(owner.ResourceNames, atom.ResourceNames, "")
}

// hasAllOrStar tells whether set holds star (when not empty) or every
// element of want.
func hasAllOrStar(set, want []string, star string) bool {
	if star != "" && slices.Contains(set, star) {
		return true
	}
	for _, w := range want {
		if !slices.Contains(set, w) {
			return false
		}
	}
	return true
}
