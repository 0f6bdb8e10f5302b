package clusterrolebinding

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
)

// Resource describes rbac/v1 clusterrolebindings.
func Resource(deps registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"), Name: "clusterrolebindings", Singular: "clusterrolebinding",
		Verbs: registry.AllVerbs, KeyRoot: "/clusterrolebindings",
		NewFunc: func() runtime.Object { return &rbacv1.ClusterRoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		NameFunc: rbac.NameFunc,
		WrapStore: func(st registry.Store) registry.Store {
			return rbac.GuardBindings(st, deps, "clusterrolebindings", func(obj runtime.Object) rbacv1.RoleRef {
				if b, ok := obj.(*rbacv1.ClusterRoleBinding); ok {
					return b.RoleRef
				}
				return rbacv1.RoleRef{}
			})
		},
		Table: printers.ClusterRoleBindings(),
	}
}
