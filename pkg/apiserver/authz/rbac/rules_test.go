package rbac

import (
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

// rule builds a PolicyRule: verbs, then "g:" groups, "r:" resources,
// "n:" resource names and "u:" non-resource URLs.
func rule(verbs string, parts ...string) rbacv1.PolicyRule {
	r := rbacv1.PolicyRule{Verbs: strings.Split(verbs, ",")}
	for _, p := range parts {
		k, v, _ := strings.Cut(p, ":")
		vals := strings.Split(v, ",")
		switch k {
		case "g":
			r.APIGroups = vals
		case "r":
			r.Resources = vals
		case "n":
			r.ResourceNames = vals
		case "u":
			r.NonResourceURLs = vals
		}
	}
	return r
}

func res(verb, group, resource, subresource, name string) authz.Attributes {
	return authz.Attributes{Verb: verb, IsResourceRequest: true, APIGroup: group, Resource: resource, Subresource: subresource, Name: name}
}

func url(verb, path string) authz.Attributes {
	return authz.Attributes{Verb: verb, Path: path}
}

// Cases of upstream's TestRuleMatches, plus resourceNames and */subresource.
func TestRuleAllows(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule rbacv1.PolicyRule
		want map[authz.Attributes]bool
	}{
		{"star verb", rule("*", "g:group1", "r:resource1"), map[authz.Attributes]bool{
			res("verb1", "group1", "resource1", "", ""): true,
			res("verb2", "group1", "resource1", "", ""): true,
			res("verb1", "group2", "resource1", "", ""): false,
			res("verb1", "group1", "resource2", "", ""): false,
		}},
		{"star group", rule("verb1", "g:*", "r:resource1"), map[authz.Attributes]bool{
			res("verb1", "group1", "resource1", "", ""): true,
			res("verb1", "", "resource1", "", ""):       true,
			res("verb2", "group1", "resource1", "", ""): false,
			res("verb1", "group1", "resource2", "", ""): false,
		}},
		{"star resource", rule("verb1", "g:group1", "r:*"), map[authz.Attributes]bool{
			res("verb1", "group1", "resource1", "", ""):     true,
			res("verb1", "group1", "resource2", "sub", ""):  true,
			res("verb1", "group2", "resource1", "", ""):     false,
			res("verb2", "group1", "resource1", "", "name"): false,
		}},
		{"tuple expansion", rule("verb1,verb2", "g:group1,group2", "r:resource1,resource2"), map[authz.Attributes]bool{
			res("verb1", "group1", "resource1", "", ""): true,
			res("verb2", "group2", "resource2", "", ""): true,
			res("verb2", "group1", "resource2", "", ""): true,
			res("verb3", "group1", "resource1", "", ""): false,
		}},
		{"subresource", rule("*", "g:*", "r:resource1/subresource1"), map[authz.Attributes]bool{
			res("verb1", "group1", "resource1", "subresource1", ""): true,
			res("verb1", "group1", "resource1", "subresource2", ""): false,
			res("verb1", "group1", "resource2", "subresource1", ""): false,
			res("verb1", "group1", "resource1", "", ""):             false,
		}},
		{"star subresource", rule("get", "g:", "r:*/status"), map[authz.Attributes]bool{
			res("get", "", "pods", "status", ""):  true,
			res("get", "", "nodes", "status", ""): true,
			res("get", "", "pods", "log", ""):     false,
			res("get", "", "pods", "", ""):        false,
			res("get", "", "status", "", ""):      false,
		}},
		{"resource without subresource does not match one", rule("get", "g:", "r:pods"), map[authz.Attributes]bool{
			res("get", "", "pods", "", "x"):    true,
			res("get", "", "pods", "log", "x"): false,
		}},
		{"resource names", rule("get,update,create", "g:", "r:configmaps", "n:a,b"), map[authz.Attributes]bool{
			res("get", "", "configmaps", "", "a"):    true,
			res("update", "", "configmaps", "", "b"): true,
			res("get", "", "configmaps", "", "c"):    false,
			res("get", "", "configmaps", "", ""):     false, // list/get without a name
			res("create", "", "configmaps", "", ""):  false, // create never names one
		}},
		{"star nonresource", rule("verb1", "u:*"), map[authz.Attributes]bool{
			url("verb1", "/foo"):         true,
			url("verb1", "/foo/bar/one"): true,
			url("verb2", "/foo"):         false,
		}},
		{"star nonresource subpath", rule("verb1", "u:/foo/*"), map[authz.Attributes]bool{
			url("verb1", "/foo"):         false,
			url("verb1", "/foo/bar"):     true,
			url("verb1", "/foo/bar/one"): true,
			url("verb1", "/notfoo/bar"):  false,
		}},
		{"exact nonresource", rule("*", "u:/foo,/foo/bar/one"), map[authz.Attributes]bool{
			url("verb1", "/foo"):         true,
			url("verb2", "/foo/bar/one"): true,
			url("verb1", "/foo/bar"):     false,
			url("verb1", "/foo/"):        false,
		}},
		{"resource rule never matches a non-resource request", rule("*", "g:*", "r:*"), map[authz.Attributes]bool{
			url("get", "/healthz"):         false,
			res("get", "x", "y", "z", "n"): true,
		}},
		{"non-resource rule never matches a resource request", rule("*", "u:*"), map[authz.Attributes]bool{
			res("get", "", "pods", "", ""): false,
		}},
	} {
		for a, want := range tc.want {
			if got := RuleAllows(a, &tc.rule); got != want {
				t.Errorf("%s: %+v: got %v, want %v", tc.name, a, got, want)
			}
		}
	}
}

// Cases of upstream's policy comparator tests (component-helpers).
func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		name           string
		owner, servant []rbacv1.PolicyRule
		covered        bool
		missing        []rbacv1.PolicyRule
	}{
		{"exact match",
			[]rbacv1.PolicyRule{rule("get,list,watch", "g:", "r:pods")},
			[]rbacv1.PolicyRule{rule("get,list", "g:", "r:pods")}, true, nil},
		{"missing verb",
			[]rbacv1.PolicyRule{rule("get", "g:", "r:pods")},
			[]rbacv1.PolicyRule{rule("get,delete", "g:", "r:pods")}, false,
			[]rbacv1.PolicyRule{rule("delete", "g:", "r:pods")}},
		{"star verb, group, resource",
			[]rbacv1.PolicyRule{rule("*", "g:*", "r:*")},
			[]rbacv1.PolicyRule{rule("get,escalate", "g:apps,", "r:deployments,pods/log", "n:x")}, true, nil},
		{"resource names in owner restrict",
			[]rbacv1.PolicyRule{rule("get", "g:", "r:secrets", "n:a")},
			[]rbacv1.PolicyRule{rule("get", "g:", "r:secrets")}, false,
			[]rbacv1.PolicyRule{rule("get", "g:", "r:secrets")}},
		{"resource names covered",
			[]rbacv1.PolicyRule{rule("get", "g:", "r:secrets", "n:a,b")},
			[]rbacv1.PolicyRule{rule("get", "g:", "r:secrets", "n:b")}, true, nil},
		{"owner without names covers named",
			[]rbacv1.PolicyRule{rule("get", "g:", "r:secrets")},
			[]rbacv1.PolicyRule{rule("get", "g:", "r:secrets", "n:b")}, true, nil},
		{"star subresource",
			[]rbacv1.PolicyRule{rule("get", "g:", "r:*/status")},
			[]rbacv1.PolicyRule{rule("get", "g:", "r:pods/status,nodes/status")}, true, nil},
		{"star subresource does not cover the resource",
			[]rbacv1.PolicyRule{rule("get", "g:", "r:*/status")},
			[]rbacv1.PolicyRule{rule("get", "g:", "r:pods")}, false,
			[]rbacv1.PolicyRule{rule("get", "g:", "r:pods")}},
		{"non-resource prefix",
			[]rbacv1.PolicyRule{rule("get", "u:/api/*")},
			[]rbacv1.PolicyRule{rule("get", "u:/api/v1,/api/*")}, true, nil},
		{"non-resource star not covered by a prefix",
			[]rbacv1.PolicyRule{rule("get", "u:/api/*")},
			[]rbacv1.PolicyRule{rule("get", "u:*")}, false,
			[]rbacv1.PolicyRule{rule("get", "u:*")}},
		{"rules combine across owner rules per tuple",
			[]rbacv1.PolicyRule{rule("get", "g:", "r:pods"), rule("list", "g:", "r:pods")},
			[]rbacv1.PolicyRule{rule("get,list", "g:", "r:pods")}, true, nil},
		{"nothing owned",
			nil,
			[]rbacv1.PolicyRule{rule("get", "u:/healthz")}, false,
			[]rbacv1.PolicyRule{rule("get", "u:/healthz")}},
	} {
		covered, missing := Covers(tc.owner, tc.servant)
		if covered != tc.covered {
			t.Errorf("%s: covered = %v, want %v", tc.name, covered, tc.covered)
		}
		if len(missing) != len(tc.missing) {
			t.Errorf("%s: missing = %v, want %v", tc.name, missing, tc.missing)
			continue
		}
		for i := range missing {
			if CompactString(missing[i]) != CompactString(tc.missing[i]) {
				t.Errorf("%s: missing[%d] = %v, want %v", tc.name, i, missing[i], tc.missing[i])
			}
		}
	}
}

func TestCompactRules(t *testing.T) {
	got := CompactRules([]rbacv1.PolicyRule{
		rule("get", "g:", "r:pods"), rule("list", "g:", "r:pods"),
		rule("get", "g:", "r:secrets", "n:a"), rule("delete", "g:", "r:secrets", "n:a"),
		rule("get", "u:/healthz"),
	})
	var lines []string
	for _, r := range got {
		lines = append(lines, CompactString(r))
	}
	want := []string{
		`{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}`,
		`{APIGroups:[""], Resources:["secrets"], ResourceNames:["a"], Verbs:["get" "delete"]}`,
		`{NonResourceURLs:["/healthz"], Verbs:["get"]}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
