package clusterroleaggregation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

func rule(verb, resource string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: []string{verb}, APIGroups: []string{""}, Resources: []string{resource}}
}

// role returns a ClusterRole name with labels (k=v pairs) and rules.
func role(name string, lbls map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}, Rules: rules}
}

// aggregate returns a ClusterRole name aggregating the roles each selector
// (its matchLabels) selects, with the rules it holds now.
func aggregate(name string, selectors []map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	r := role(name, nil, rules...)
	r.AggregationRule = &rbacv1.AggregationRule{}
	for _, s := range selectors {
		r.AggregationRule.ClusterRoleSelectors = append(r.AggregationRule.ClusterRoleSelectors, metav1.LabelSelector{MatchLabels: s})
	}
	return r
}

func newController(f *controllertest.Fixture) *Controller {
	return New(f.Client, f.Informers.Rbac().V1().ClusterRoles(), Options{Logger: f.Logger, Clock: f.Clock})
}

var (
	xy         = map[string]string{"x": "y"}
	patchAdmin = controllertest.Action{Verb: "patch", Resource: "clusterroles", Name: "admin"}
)

// rulesOf returns the rules the first patch of admin sent, after checking
// it is a merge patch of the rules alone.
func rulesOf(f *controllertest.Fixture) []rbacv1.PolicyRule {
	f.T.Helper()
	for _, a := range f.Actions() {
		if controllertest.Describe(a) != patchAdmin {
			continue
		}
		p := a.(k8stesting.PatchAction)
		var patch map[string][]rbacv1.PolicyRule
		if err := json.Unmarshal(p.GetPatch(), &patch); err != nil || p.GetPatchType() != types.MergePatchType || len(patch) != 1 {
			f.T.Fatalf("patch %s %s (%v), want a merge patch of rules", p.GetPatchType(), p.GetPatch(), err)
		}
		rules, ok := patch["rules"]
		if !ok || rules == nil {
			f.T.Fatalf("patch %s, want a list of rules", p.GetPatch())
		}
		return rules
	}
	f.T.Fatalf("no %s", patchAdmin)
	return nil
}

func sameRules(t *testing.T, got []rbacv1.PolicyRule, want ...rbacv1.PolicyRule) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("rules %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i].String() {
			t.Errorf("rule %d: %v, want %v", i, got[i], want[i])
		}
	}
}

// TestSyncUnion: the aggregate gets the rules of every selected role in
// name order, each rule once, the unselected role's rules and its own
// former rules left out; the patch changes nothing else.
func TestSyncUnion(t *testing.T) {
	admin := aggregate("admin", []map[string]string{xy}, rule("delete", "secrets"))
	admin.Labels = map[string]string{"kept": "yes"}
	f := controllertest.New(t, admin,
		role("b-pods", xy, rule("get", "pods"), rule("list", "pods")),
		role("a-svc", xy, rule("get", "services"), rule("get", "pods")),
		role("other", map[string]string{"x": "z"}, rule("get", "nodes")))
	c := newController(f)
	f.MustSync(c.sync, "admin")
	f.ExpectActions(patchAdmin)
	sameRules(t, rulesOf(f), rule("get", "services"), rule("get", "pods"), rule("list", "pods"))
	stored, err := f.Client.RbacV1().ClusterRoles().Get(f.Ctx, "admin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stored.Labels["kept"] != "yes" || stored.AggregationRule == nil || len(stored.Rules) != 3 {
		t.Errorf("patched role %+v", stored)
	}
}

// TestSyncSelectorsInOrder: selectors are taken in order; a role matched
// by two selectors adds nothing the second time; the aggregate matching
// its own selector is left out.
func TestSyncSelectorsInOrder(t *testing.T) {
	admin := aggregate("admin", []map[string]string{{"to": "admin"}, {"to": "edit"}})
	admin.Labels = map[string]string{"to": "edit"} // it must not feed itself
	f := controllertest.New(t, admin,
		role("z-admin", map[string]string{"to": "admin"}, rule("*", "secrets")),
		role("a-edit", map[string]string{"to": "edit"}, rule("update", "pods")),
		role("both", map[string]string{"to": "edit", "also": "admin"}, rule("patch", "pods")))
	c := newController(f)
	f.MustSync(c.sync, "admin")
	sameRules(t, rulesOf(f), rule("*", "secrets"), rule("update", "pods"), rule("patch", "pods"))
}

// TestSyncUpToDate: rules already equal to the union (in the same order)
// are not written; nor is an aggregate without sources and without rules
// (nil and empty are the same).
func TestSyncUpToDate(t *testing.T) {
	f := controllertest.New(t,
		aggregate("admin", []map[string]string{xy}, rule("get", "pods"), rule("get", "services")),
		aggregate("empty", []map[string]string{{"nothing": "matches"}}),
		role("a", xy, rule("get", "pods")), role("b", xy, rule("get", "services"), rule("get", "pods")))
	c := newController(f)
	f.MustSync(c.sync, "admin")
	f.MustSync(c.sync, "empty")
	f.ExpectActions()
}

// TestSyncOrderMatters: the same rules in another order are rewritten in
// upstream's order.
func TestSyncOrderMatters(t *testing.T) {
	f := controllertest.New(t,
		aggregate("admin", []map[string]string{xy}, rule("get", "services"), rule("get", "pods")),
		role("a", xy, rule("get", "pods")), role("b", xy, rule("get", "services")))
	c := newController(f)
	f.MustSync(c.sync, "admin")
	sameRules(t, rulesOf(f), rule("get", "pods"), rule("get", "services"))
}

// TestSyncSourcesGone: an aggregate whose sources are gone loses their
// rules.
func TestSyncSourcesGone(t *testing.T) {
	f := controllertest.New(t, aggregate("admin", []map[string]string{xy}, rule("get", "pods")))
	c := newController(f)
	f.MustSync(c.sync, "admin")
	f.ExpectActions(patchAdmin)
	if got := rulesOf(f); len(got) != 0 {
		t.Errorf("rules %v, want none", got)
	}
}

// TestSyncIgnores: a role without aggregationRule, a role gone from the
// cache and a role with a selector that cannot be parsed are left alone,
// without an error.
func TestSyncIgnores(t *testing.T) {
	bad := aggregate("bad", nil)
	bad.AggregationRule.ClusterRoleSelectors = []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "x", Operator: "Sometimes"}}}}
	f := controllertest.New(t, role("plain", xy, rule("get", "pods")), bad, role("src", nil, rule("get", "pods")))
	c := newController(f)
	for _, key := range []string{"plain", "gone", "bad"} {
		f.MustSync(c.sync, key)
	}
	f.ExpectActions()
}

// TestSyncWriteErrors: a failure is returned for a retry, naming the
// role; NotFound (deleted meanwhile) is done.
func TestSyncWriteErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		err   error
		retry bool
	}{
		"unavailable": {apierrors.NewServiceUnavailable("etcd is down"), true},
		"gone":        {apierrors.NewNotFound(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, "admin"), false},
	} {
		t.Run(name, func(t *testing.T) {
			f := controllertest.New(t, aggregate("admin", []map[string]string{xy}), role("src", xy, rule("get", "pods")))
			f.Client.PrependReactor("patch", "clusterroles", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tc.err
			})
			c := newController(f)
			err := f.Sync(c.sync, "admin")
			if tc.retry != (err != nil) {
				t.Fatalf("sync: %v", err)
			}
			if tc.retry && (!apierrors.IsServiceUnavailable(err) || !strings.HasPrefix(err.Error(), "updating the rules of cluster role admin: ")) {
				t.Errorf("sync error %v", err)
			}
		})
	}
}

// TestRunFollowsSources: run by its loop, the controller keeps an
// aggregate up to date as a source is added, changed and deleted (any
// ClusterRole event enqueues the aggregates).
func TestRunFollowsSources(t *testing.T) {
	f := controllertest.New(t)
	c := newController(f)
	f.Start()
	ctx, cancel := context.WithCancel(f.Ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, Workers) }()
	defer func() { // the workers log to t: they must end before it does
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	roles := f.Client.RbacV1().ClusterRoles()
	if _, err := roles.Create(f.Ctx, aggregate("admin", []map[string]string{xy}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	src, err := roles.Create(f.Ctx, role("src", xy, rule("get", "pods")), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRules(t, f, rule("get", "pods"))
	src.Rules = append(src.Rules, rule("get", "services"))
	if _, err := roles.Update(f.Ctx, src, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRules(t, f, rule("get", "pods"), rule("get", "services"))
	if err := roles.Delete(f.Ctx, "src", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRules(t, f)
	if st := c.Stats(); st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

// waitRules waits until the fake API's admin holds want.
func waitRules(t *testing.T, f *controllertest.Fixture, want ...rbacv1.PolicyRule) {
	t.Helper()
	var got []rbacv1.PolicyRule
	for range 500 {
		r, err := f.Client.RbacV1().ClusterRoles().Get(f.Ctx, "admin", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got = r.Rules; fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("admin's rules %v, want %v", got, want)
}
