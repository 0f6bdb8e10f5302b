package role

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
)

// Resource describes rbac/v1 roles.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: rbacv1.SchemeGroupVersion.WithKind("Role"), Name: "roles", Singular: "role",
		Namespaced: true,
		Verbs:      registry.AllVerbs, KeyRoot: "/roles",
		NewFunc: func() runtime.Object { return &rbacv1.Role{} }, NewList: func() runtime.Object { return &rbacv1.RoleList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		NameFunc: rbac.NameFunc,
		Table:    printers.DefaultTable(),
	}
}
