package rbac

import (
	"fmt"
	"reflect"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

// RuleAllows reports whether rule allows the request a, with upstream's
// matching: "*" matches any verb, API group, resource or non-resource URL;
// a resource request's resource is "resource" or "resource/subresource",
// and a rule's "*/subresource" matches that subresource of any resource;
// resourceNames, when set, restrict the rule to requests naming one of them
// (so a create, which names no object, never matches such a rule); a
// non-resource URL matches exactly or, for a rule URL ending in "*", by
// prefix.
func RuleAllows(a authz.Attributes, rule *rbacv1.PolicyRule) bool {
	if !has(rule.Verbs, a.Verb, rbacv1.VerbAll) {
		return false
	}
	if !a.IsResourceRequest {
		return urlMatches(rule.NonResourceURLs, a.Path)
	}
	return has(rule.APIGroups, a.APIGroup, rbacv1.APIGroupAll) &&
		resourceMatches(rule.Resources, a.Resource, a.Subresource) &&
		(len(rule.ResourceNames) == 0 || has(rule.ResourceNames, a.Name, ""))
}

// RulesAllow reports whether any of rules allows a.
func RulesAllow(a authz.Attributes, rules []rbacv1.PolicyRule) bool {
	for i := range rules {
		if RuleAllows(a, &rules[i]) {
			return true
		}
	}
	return false
}

// has reports whether set holds want, or holds all (when all is not "").
func has(set []string, want, all string) bool {
	for _, s := range set {
		if s == want || (all != "" && s == all) {
			return true
		}
	}
	return false
}

func resourceMatches(rules []string, resource, subresource string) bool {
	for _, r := range rules {
		if r == rbacv1.ResourceAll {
			return true
		}
		if subresource == "" {
			if r == resource {
				return true
			}
			continue
		}
		// "resource/subresource" or "*/subresource", without building the
		// combined string.
		head, sub, ok := strings.Cut(r, "/")
		if ok && sub == subresource && (head == resource || head == rbacv1.ResourceAll) {
			return true
		}
	}
	return false
}

func urlMatches(rules []string, path string) bool {
	for _, u := range rules {
		if u == rbacv1.NonResourceAll || u == path {
			return true
		}
		if prefix, ok := strings.CutSuffix(u, "*"); ok && strings.HasPrefix(path, strings.TrimRight(prefix, "*")) {
			return true
		}
	}
	return false
}

// Covers reports whether owner grants everything servant does, as
// upstream's validation.Covers: each servant rule is broken into rules of
// one API group, resource (or non-resource URL), verb and resource name,
// and each of those must be covered by a single owner rule. The second
// result lists the broken-down rules that are not covered.
func Covers(owner, servant []rbacv1.PolicyRule) (bool, []rbacv1.PolicyRule) {
	var missing []rbacv1.PolicyRule
	for _, s := range servant {
		for _, sub := range BreakdownRule(s) {
			covered := false
			for i := range owner {
				if ruleCovers(&owner[i], &sub) {
					covered = true
					break
				}
			}
			if !covered {
				missing = append(missing, sub)
			}
		}
	}
	return len(missing) == 0, missing
}

// BreakdownRule returns rules equivalent to rule that each have one verb
// and one API group and resource (with at most one resource name), or one
// non-resource URL.
func BreakdownRule(rule rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	for _, g := range rule.APIGroups {
		for _, r := range rule.Resources {
			for _, v := range rule.Verbs {
				if len(rule.ResourceNames) == 0 {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{r}, Verbs: []string{v}})
					continue
				}
				for _, n := range rule.ResourceNames {
					out = append(out, rbacv1.PolicyRule{APIGroups: []string{g}, Resources: []string{r}, Verbs: []string{v}, ResourceNames: []string{n}})
				}
			}
		}
	}
	for _, u := range rule.NonResourceURLs {
		for _, v := range rule.Verbs {
			out = append(out, rbacv1.PolicyRule{NonResourceURLs: []string{u}, Verbs: []string{v}})
		}
	}
	return out
}

// ruleCovers reports whether owner covers sub, a broken-down rule.
func ruleCovers(owner, sub *rbacv1.PolicyRule) bool {
	if !hasAll(owner.Verbs, sub.Verbs, rbacv1.VerbAll) || !hasAll(owner.APIGroups, sub.APIGroups, rbacv1.APIGroupAll) {
		return false
	}
	if !resourcesCover(owner.Resources, sub.Resources) || !urlsCover(owner.NonResourceURLs, sub.NonResourceURLs) {
		return false
	}
	if len(owner.ResourceNames) == 0 {
		return true
	}
	return len(sub.ResourceNames) > 0 && hasAll(owner.ResourceNames, sub.ResourceNames, "")
}

// hasAll reports whether set holds every element of want (or all).
func hasAll(set, want []string, all string) bool {
	if all != "" && has(set, all, "") {
		return true
	}
	for _, w := range want {
		if !has(set, w, "") {
			return false
		}
	}
	return true
}

func resourcesCover(owner, want []string) bool {
	if has(owner, rbacv1.ResourceAll, "") {
		return true
	}
	for _, r := range want {
		if has(owner, r, "") {
			continue
		}
		_, sub, ok := strings.Cut(r, "/")
		if !ok || !has(owner, "*/"+sub, "") {
			return false
		}
	}
	return true
}

func urlsCover(owner, want []string) bool {
	for _, w := range want {
		if !urlMatches(owner, w) {
			return false
		}
	}
	return true
}

// CompactRules merges rules that name one API group and one resource (and
// at most one resource name) and differ only in verbs, as upstream does
// before listing missing permissions.
func CompactRules(rules []rbacv1.PolicyRule) []rbacv1.PolicyRule {
	type key struct {
		group, resource string
		named           bool
		name            string
	}
	out := make([]rbacv1.PolicyRule, 0, len(rules))
	simple := map[key]int{}
	for _, r := range rules {
		if len(r.ResourceNames) > 1 || len(r.NonResourceURLs) > 0 || len(r.APIGroups) != 1 || len(r.Resources) != 1 {
			out = append(out, r)
			continue
		}
		plain := rbacv1.PolicyRule{APIGroups: r.APIGroups, Resources: r.Resources, Verbs: r.Verbs, ResourceNames: r.ResourceNames}
		if !reflect.DeepEqual(plain, r) {
			out = append(out, r)
			continue
		}
		k := key{group: r.APIGroups[0], resource: r.Resources[0]}
		if len(r.ResourceNames) == 1 {
			k.named, k.name = true, r.ResourceNames[0]
		}
		if i, ok := simple[k]; ok {
			out[i].Verbs = append(out[i].Verbs, r.Verbs...)
			continue
		}
		simple[k] = len(out)
		out = append(out, *r.DeepCopy())
	}
	return out
}

// CompactString formats a rule as upstream's escalation messages do:
// {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}.
func CompactString(r rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
