package rolebinding

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
)

// Resource describes rbac/v1 rolebindings.
func Resource(deps registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: rbacv1.SchemeGroupVersion.WithKind("RoleBinding"), Name: "rolebindings", Singular: "rolebinding",
		Namespaced: true,
		Verbs:      registry.AllVerbs, KeyRoot: "/rolebindings",
		NewFunc: func() runtime.Object { return &rbacv1.RoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.RoleBindingList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		NameFunc: rbac.NameFunc,
		WrapStore: func(st registry.Store) registry.Store {
			return rbac.GuardBindings(st, deps, "rolebindings", func(obj runtime.Object) rbacv1.RoleRef {
				if b, ok := obj.(*rbacv1.RoleBinding); ok {
					return b.RoleRef
				}
				return rbacv1.RoleRef{}
			})
		},
		Table: printers.RoleBindings(),
	}
}
