package clusterroleaggregation_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/controller/clusterroleaggregation"
	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
)

// TestIntegrationClusterRoleAggregation runs the controller against a real
// kube-apiserver on etcd: an aggregate selecting x=y gets the rules of a
// ClusterRole labelled x=y created after it, follows that role's rule
// changes and a second source, and loses the rules of a source deleted or
// relabelled away; the bootstrap policy's admin, edit and view aggregate
// their sources.
func TestIntegrationClusterRoleAggregation(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()
	roles := client.RbacV1().ClusterRoles()

	factory := informers.NewSharedInformerFactory(client, 0)
	c := clusterroleaggregation.New(client, factory.Rbac().V1().ClusterRoles(),
		clusterroleaggregation.Options{Logger: integration.Logger(t)})
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, clusterroleaggregation.Workers) })

	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "agg"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"x": "y"}}}}}
	if _, err := roles.Create(ctx, agg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	src := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "src", Labels: map[string]string{"x": "y"}},
		Rules: []rbacv1.PolicyRule{pods}}
	src, err := roles.Create(ctx, src, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRules(ctx, t, client, "the source's rules", pods)

	// The source's rules change.
	secrets := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{"s"}}
	src.Rules = []rbacv1.PolicyRule{pods, secrets}
	if src, err = roles.Update(ctx, src, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRules(ctx, t, client, "the changed rules", pods, secrets)

	// A second source ("a-" sorts first) with one rule in common.
	nodes := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"nodes"}}
	second := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "a-second", Labels: map[string]string{"x": "y"}},
		Rules: []rbacv1.PolicyRule{nodes, pods}}
	if second, err = roles.Create(ctx, second, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRules(ctx, t, client, "both sources' rules", nodes, pods, secrets)

	// Deleted, then relabelled away: nothing is left.
	if err := roles.Delete(ctx, "src", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRules(ctx, t, client, "the rules without the deleted source", nodes, pods)
	second.Labels = map[string]string{"x": "z"}
	if _, err := roles.Update(ctx, second, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRules(ctx, t, client, "no rules")
	if st := c.Stats(); st.Errors != 0 {
		t.Errorf("sync errors: %+v", st)
	}

	// The bootstrap policy's aggregates: view holds the rules of
	// system:aggregate-to-view, admin those of edit's sources too.
	for _, pair := range [][2]string{{"view", "system:aggregate-to-view"}, {"edit", "system:aggregate-to-view"},
		{"admin", "system:aggregate-to-edit"}, {"admin", "system:aggregate-to-admin"}} {
		src, err := roles.Get(ctx, pair[1], metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		integration.WaitFor(ctx, t, 20*time.Second, pair[0]+" holding the rules of "+pair[1], func() bool {
			agg, err := roles.Get(ctx, pair[0], metav1.GetOptions{})
			if err != nil {
				return false
			}
			have := fmt.Sprint(agg.Rules)
			for _, r := range src.Rules {
				if !strings.Contains(have, fmt.Sprint(r)) {
					return false
				}
			}
			return len(src.Rules) > 0
		})
	}
}

// waitRules waits until the aggregate "agg" holds exactly want, in order.
func waitRules(ctx context.Context, t *testing.T, client kubernetes.Interface, what string, want ...rbacv1.PolicyRule) {
	t.Helper()
	integration.WaitFor(ctx, t, 20*time.Second, what, func() bool {
		r, err := client.RbacV1().ClusterRoles().Get(ctx, "agg", metav1.GetOptions{})
		if err != nil {
			return false
		}
		return fmt.Sprint(r.Rules) == fmt.Sprint(want)
	})
}
