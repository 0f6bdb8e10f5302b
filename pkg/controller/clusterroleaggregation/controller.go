// Package clusterroleaggregation is kinc's "clusterrole-aggregation"
// controller (upstream's clusterrole-aggregation-controller, whose older
// name --controllers also accepts): it keeps the rules of every ClusterRole
// that has an aggregationRule equal to the union of the rules of the
// ClusterRoles its clusterRoleSelectors match. This is how the bootstrap
// roles admin, edit and view grow with the rules of any ClusterRole
// labelled rbac.authorization.k8s.io/aggregate-to-<role>=true.
//
// As upstream's ClusterRoleAggregationController: the union is built
// selector by selector, each selector's ClusterRoles in name order, each
// rule added unless an equal one is already there, the aggregated role
// itself left out; the role is written only when its rules differ from
// that union (an aggregate whose selectors match nothing ends with no
// rules). Since which roles feed which aggregate is not tracked, any
// ClusterRole change enqueues every aggregated ClusterRole. It records no
// events.
package clusterroleaggregation

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	rbacinformers "k8s.io/client-go/informers/rbac/v1"
	"k8s.io/client-go/kubernetes"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "clusterrole-aggregation-controller").
const Name = "clusterrole-aggregation"

// FieldManager is the manager of the rules it writes, as upstream names it.
const FieldManager = "clusterrole-aggregation-controller"

// Workers is upstream's worker count for this controller (it has no
// --concurrent-*-syncs flag).
const Workers = 5

// Options configure a Controller.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries; nil means the real clock.
	Clock clock.WithTicker
}

// Controller keeps aggregated ClusterRoles' rules up to date. Its queue
// keys are ClusterRole names. Run (from the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client kubernetes.Interface
	roles  rbaclisters.ClusterRoleLister
	logger *slog.Logger
}

// New returns a Controller reading ClusterRoles through the given informer
// (whose factory the caller starts) and updating them through client.
func New(client kubernetes.Interface, roles rbacinformers.ClusterRoleInformer, opts Options) *Controller {
	c := &Controller{client: client, roles: roles.Lister()}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{roles.Informer().HasSynced}})
	c.logger = c.Logger()
	enqueue := func(any) { c.enqueueAggregated() }
	_, _ = roles.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: enqueue,
	})
	return c
}

// enqueueAggregated enqueues every ClusterRole with an aggregationRule:
// any ClusterRole added, changed or deleted may feed any of them. The
// set of ClusterRoles is small, and a failure to update one aggregate is
// retried on its own.
func (c *Controller) enqueueAggregated() {
	roles, err := c.roles.List(labels.Everything())
	if err != nil {
		c.logger.Error("listing cluster roles", "err", err)
		return
	}
	for _, r := range roles {
		if r.AggregationRule != nil {
			c.EnqueueKey(r.Name)
		}
	}
}

// sync sets the rules of the ClusterRole named key to the union of its
// selected roles' rules when they differ. It writes them with a merge
// patch of rules alone, without a resourceVersion precondition, as
// upstream's forced server-side apply of the rules does: aggregates feed
// each other (admin selects edit, edit selects view), so a precondition
// would conflict with the cache's lag; a union computed from a stale cache
// is corrected by the event that made it stale. A role that is gone or has no
// aggregationRule is left alone. A selector that cannot be parsed (the
// apiserver's validation refuses those) is logged and the role left as it
// is: retrying would not help, the role's next change enqueues it again.
// A write failure is returned (retried with backoff); NotFound means the
// role was deleted meanwhile, which is not an error.
func (c *Controller) sync(ctx context.Context, key string) error {
	role, err := c.roles.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if role.AggregationRule == nil {
		return nil
	}
	rules, err := c.aggregate(role)
	if err != nil {
		c.logger.Error("cannot aggregate cluster role", "clusterRole", key, "err", err)
		return nil
	}
	if equality.Semantic.DeepEqual(rules, role.Rules) {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"rules": rules})
	if err != nil {
		return err
	}
	_, err = c.client.RbacV1().ClusterRoles().Patch(ctx, key, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("updating the rules of cluster role %s: %w", key, err)
	}
	c.logger.Debug("aggregated cluster role", "clusterRole", key, "rules", len(rules))
	return nil
}

// aggregate returns the union of the rules of the ClusterRoles role's
// selectors match, role itself excepted: selector by selector, each
// selector's roles by name, each rule once (the first occurrence). The
// result is never nil, so that "no rules" compares equal to an empty or
// absent rules list.
func (c *Controller) aggregate(role *rbacv1.ClusterRole) ([]rbacv1.PolicyRule, error) {
	rules := []rbacv1.PolicyRule{}
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			return nil, fmt.Errorf("clusterRoleSelectors[%d]: %w", i, err)
		}
		matched, err := c.roles.List(sel)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(matched, func(a, b *rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
		for _, m := range matched {
			if m.Name == role.Name {
				continue
			}
			for _, r := range m.Rules {
				if !slices.ContainsFunc(rules, func(have rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(have, r) }) {
					rules = append(rules, *r.DeepCopy())
				}
			}
		}
	}
	return rules, nil
}
