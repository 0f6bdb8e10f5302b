package server

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

func TestAuthorizationModes(t *testing.T) {
	for flag, want := range map[string]string{
		"AlwaysAllow":        "AlwaysAllow",
		"Node,RBAC":          "Node RBAC",
		" RBAC , AlwaysDeny": "RBAC AlwaysDeny",
		"":                   "error: at least one",
		"RBAC,":              "error: at least one",
		"RBAC,RBAC":          "error: more than once",
		"Webhook":            "error: not supported",
		"ABAC,RBAC":          "error: not supported",
		"rbac":               "error: not a valid mode",
	} {
		modes, err := authorizationModes(flag)
		got := strings.Join(modes, " ")
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(want, "error: ") && got != want || strings.HasPrefix(want, "error: ") && !strings.Contains(got, strings.TrimPrefix(want, "error: ")) {
			t.Errorf("%q: got %q, want %q", flag, got, want)
		}
	}
	for _, tc := range []struct {
		mode      string
		anonymous bool
		want      bool
	}{
		{"AlwaysAllow", true, false},
		{"RBAC,AlwaysAllow", true, false},
		{"Node,RBAC", true, true},
		{"Node,RBAC", false, false},
	} {
		if got := anonymousAuth(&Options{AuthorizationMode: tc.mode, AnonymousAuth: tc.anonymous}); got != tc.want {
			t.Errorf("anonymousAuth(%q, %v) = %v", tc.mode, tc.anonymous, got)
		}
	}
}

type fixed struct {
	d      authz.Decision
	reason string
	err    error
}

func (f fixed) Authorize(context.Context, authz.Attributes) (authz.Decision, string, error) {
	return f.d, f.reason, f.err
}

func TestUnionAuthorizer(t *testing.T) {
	ctx := context.Background()
	masters := authz.Attributes{User: &authn.User{Name: "x", Groups: []string{"system:masters"}}}
	other := authz.Attributes{User: &authn.User{Name: "y", Groups: []string{"system:authenticated"}}}
	u := unionAuthorizer{
		{"kubernetes.io/system-privileged-group", privilegedGroups{"system:masters"}},
		{"node", fixed{authz.NoOpinion, "", nil}},
		{"rbac", fixed{authz.NoOpinion, `RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`, nil}},
	}
	if d, _, _ := u.Authorize(ctx, masters); d != authz.Allow {
		t.Errorf("system:masters: %v", d)
	}
	d, reason, err := u.Authorize(ctx, other)
	if d != authz.NoOpinion || err != nil || reason != `rbac: RBAC: clusterrole.rbac.authorization.k8s.io "x" not found` {
		t.Errorf("other: %v %q %v", d, reason, err)
	}
	deny := append(u[:1:1], namedAuthorizer{"alwaysdeny", authz.AlwaysDeny{}}, namedAuthorizer{"alwaysallow", authz.AlwaysAllow{}})
	if d, reason, _ := deny.Authorize(ctx, other); d != authz.Deny || reason != "Everything is forbidden." {
		t.Errorf("deny first: %v %q", d, reason)
	}
	failing := unionAuthorizer{{"a", fixed{authz.NoOpinion, "", errors.New("boom")}}, {"b", fixed{authz.NoOpinion, "", nil}}}
	if d, _, err := failing.Authorize(ctx, other); d != authz.NoOpinion || err == nil {
		t.Errorf("errors are kept: %v %v", d, err)
	}

	// Requests wait until the caches synced.
	var synced atomic.Bool
	calls := 0
	w := waitForSync(authz.AlwaysAllow{}, func() bool { calls++; return synced.Load() })
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if d, _, err := w.Authorize(cctx, other); d != authz.Allow || err != nil {
		t.Errorf("a request that ended before the caches synced: %v %v, want the authorizer's answer", d, err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		synced.Store(true)
	}()
	if d, _, err := w.Authorize(ctx, other); d != authz.Allow || err != nil {
		t.Errorf("after sync: %v %v", d, err)
	}
	n := calls
	w.Authorize(ctx, other)
	if calls != n {
		t.Error("synced is still polled after the caches synced")
	}
}

type fixedRules struct {
	rules []rbacv1.PolicyRule
	err   error
}

func (f fixedRules) RulesFor(context.Context, *authn.User, string) ([]rbacv1.PolicyRule, error) {
	return f.rules, f.err
}

func TestUnionRules(t *testing.T) {
	get := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	u := unionRules{allRules{}, fixedRules{nil, errors.New("node authorizer does not support user rule resolution")}, fixedRules{[]rbacv1.PolicyRule{get}, nil}}
	rules, err := u.RulesFor(context.Background(), &authn.User{Name: "x"}, "default")
	if len(rules) != 3 || rules[0].Verbs[0] != "*" || rules[1].NonResourceURLs[0] != "*" || rules[2].Resources[0] != "pods" {
		t.Errorf("rules %v", rules)
	}
	if err == nil || err.Error() != "node authorizer does not support user rule resolution" {
		t.Errorf("err %v", err)
	}
	if rules, err := (unionRules{}).RulesFor(context.Background(), &authn.User{Name: "x"}, ""); rules != nil || err != nil {
		t.Errorf("no resolver: %v %v", rules, err)
	}
}
