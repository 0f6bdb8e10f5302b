package clusterroleaggregation

import (
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
	xy          = map[string]string{"x": "y"}
	updateAdmin = controllertest.Action{Verb: "update", Resource: "clusterroles", Name: "admin"}
)

// rulesOf returns the rules the first update of admin sent.
func rulesOf(f *controllertest.Fixture) []rbacv1.PolicyRule {
	f.T.Helper()
	return controllertest.Find[*rbacv1.ClusterRole](f, updateAdmin).Rules
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
// former rules left out; the rest of the object is kept.
func TestSyncUnion(t *testing.T) {
	admin := aggregate("admin", []map[string]string{xy}, rule("delete", "secrets"))
	admin.Labels = map[string]string{"kept": "yes"}
	f := controllertest.New(t, admin,
		role("b-pods", xy, rule("get", "pods"), rule("list", "pods")),
		role("a-svc", xy, rule("get", "services"), rule("get", "pods")),
		role("other", map[string]string{"x": "z"}, rule("get", "nodes")))
	c := newController(f)
	f.MustSync(c.sync, "admin")
	f.ExpectActions(updateAdmin)
	sent := controllertest.Find[*rbacv1.ClusterRole](f, updateAdmin)
	sameRules(t, sent.Rules, rule("get", "services"), rule("get", "pods"), rule("list", "pods"))
	if sent.Labels["kept"] != "yes" || sent.AggregationRule == nil {
		t.Errorf("the update lost the rest of the role: %+v", sent)
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
	f.ExpectActions(updateAdmin)
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

// TestSyncWriteErrors: a conflict (or any failure) is returned for a
// retry, naming the role; NotFound (deleted meanwhile) is done.
func TestSyncWriteErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		err   error
		retry bool
	}{
		"conflict": {apierrors.NewConflict(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, "admin", nil), true},
		"gone":     {apierrors.NewNotFound(schema.GroupResource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, "admin"), false},
	} {
		t.Run(name, func(t *testing.T) {
			f := controllertest.New(t, aggregate("admin", []map[string]string{xy}), role("src", xy, rule("get", "pods")))
			f.Client.PrependReactor("update", "clusterroles", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tc.err
			})
			c := newController(f)
			err := f.Sync(c.sync, "admin")
			if tc.retry != (err != nil) {
				t.Fatalf("sync: %v", err)
			}
			if tc.retry && (!apierrors.IsConflict(err) || !strings.HasPrefix(err.Error(), "updating the rules of cluster role admin: ")) {
				t.Errorf("sync error %v", err)
			}
		})
	}
}

// TestEventsEnqueueAggregates: any ClusterRole added, updated or deleted
// enqueues every aggregated role, and only those.
func TestEventsEnqueueAggregates(t *testing.T) {
	f := controllertest.New(t)
	c := newController(f)
	f.Start()
	roles := f.Client.RbacV1().ClusterRoles()
	for _, r := range []*rbacv1.ClusterRole{aggregate("admin", []map[string]string{xy}), aggregate("view", nil)} {
		if _, err := roles.Create(f.Ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitAdds(t, c, 3) // admin; admin and view
	src, err := roles.Create(f.Ctx, role("src", xy), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitAdds(t, c, 5)
	src.Rules = []rbacv1.PolicyRule{rule("get", "pods")}
	src.ResourceVersion = "2"
	if _, err := roles.Update(f.Ctx, src, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAdds(t, c, 7)
	if err := roles.Delete(f.Ctx, "src", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitAdds(t, c, 9)
	if st := c.Stats(); st.Adds != 9 || st.Depth != 2 {
		t.Errorf("stats %+v, want 9 adds of 2 keys", st)
	}
}

// waitAdds waits until the loop counted n enqueued keys.
func waitAdds(t *testing.T, c *Controller, n uint64) {
	t.Helper()
	for range 500 {
		if c.Stats().Adds >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d keys enqueued, want %d", c.Stats().Adds, n)
}
