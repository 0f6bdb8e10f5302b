package replicaset

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps"
)

// Resource describes apps/v1 replicasets.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: appsv1.SchemeGroupVersion.WithKind("ReplicaSet"), Name: "replicasets", Singular: "replicaset",
		ShortNames: []string{"rs"}, Categories: []string{"all"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/replicasets",
		NewFunc: func() runtime.Object { return &appsv1.ReplicaSet{} }, NewList: func() runtime.Object { return &appsv1.ReplicaSetList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		Table:          printers.ReplicaSets(),
		Subresources:   []registry.Subresource{apps.ScaleSubresource()},
	}
}
