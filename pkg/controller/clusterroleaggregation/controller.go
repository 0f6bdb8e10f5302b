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
	"fmt"
	"log/slog"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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
// selected roles' rules when they differ. A role that is gone or has no
// aggregationRule is left alone. A selector that cannot be parsed (the
// apiserver's validation refuses those) is logged and the role left as it
// is: retrying would not help, the role's next change enqueues it again.
// A conflict or any other write failure is returned (retried with backoff
// from the cache's newer copy); NotFound on update means the role was
// deleted meanwhile, which is not an error.
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
	updated := role.DeepCopy()
	updated.Rules = rules
	_, err = c.client.RbacV1().ClusterRoles().Update(ctx, updated, metav1.UpdateOptions{FieldManager: "clusterrole-aggregation-controller"})
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
