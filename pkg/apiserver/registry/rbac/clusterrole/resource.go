package clusterrole

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
)

// Resource describes rbac/v1 clusterroles.
func Resource(deps registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: rbacv1.SchemeGroupVersion.WithKind("ClusterRole"), Name: "clusterroles", Singular: "clusterrole",
		Verbs: registry.AllVerbs, KeyRoot: "/clusterroles",
		NewFunc: func() runtime.Object { return &rbacv1.ClusterRole{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		NameFunc: rbac.NameFunc,
		WrapStore: func(st registry.Store) registry.Store {
			return rbac.GuardRoles(st, deps, "clusterroles", func(obj runtime.Object) ([]rbacv1.PolicyRule, bool) {
				r, _ := obj.(*rbacv1.ClusterRole)
				if r == nil {
					return nil, false
				}
				return r.Rules, r.AggregationRule != nil && len(r.AggregationRule.ClusterRoleSelectors) > 0
			})
		},
		Table: printers.DefaultTable(),
	}
}
