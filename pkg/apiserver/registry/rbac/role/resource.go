package role

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
)

// Resource describes rbac/v1 roles.
func Resource(deps registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: rbacv1.SchemeGroupVersion.WithKind("Role"), Name: "roles", Singular: "role",
		Namespaced: true,
		Verbs:      registry.AllVerbs, KeyRoot: "/roles",
		NewFunc: func() runtime.Object { return &rbacv1.Role{} }, NewList: func() runtime.Object { return &rbacv1.RoleList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		NameFunc: rbac.NameFunc,
		WrapStore: func(st registry.Store) registry.Store {
			return rbac.GuardRoles(st, deps, "roles", func(obj runtime.Object) ([]rbacv1.PolicyRule, bool) {
				r, _ := obj.(*rbacv1.Role)
				if r == nil {
					return nil, false
				}
				return r.Rules, false
			})
		},
		Table: printers.DefaultTable(),
	}
}
