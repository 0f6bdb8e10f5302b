package clusterroleaggregation_test

import (
	"context"
	"fmt"
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
// relabelled away.
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
