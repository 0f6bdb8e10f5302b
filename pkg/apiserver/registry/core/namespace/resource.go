package namespace

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 Namespaces, deleted in two phases
// (Terminating while spec.finalizers is not empty), with the finalize
// subresource.
func Resource(deps registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("Namespace"), Name: "namespaces", Singular: "namespace",
		ShortNames: []string{"ns"},
		Verbs:      []string{"create", "delete", "get", "list", "patch", "update", "watch"}, KeyRoot: "/namespaces",
		NewFunc: func() runtime.Object { return &corev1.Namespace{} }, NewList: func() runtime.Object { return &corev1.NamespaceList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		NameFunc:       NameFunc,
		Table:          printers.Namespaces(),
		Subresources:   []registry.Subresource{finalizeSubresource()},
		WrapStore:      func(st registry.Store) registry.Store { return namespaceStorage{Store: st, clock: deps.Clock} },
	}
}
