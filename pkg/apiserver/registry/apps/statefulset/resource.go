package statefulset

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps"
)

// Resource describes apps/v1 statefulsets.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: appsv1.SchemeGroupVersion.WithKind("StatefulSet"), Name: "statefulsets", Singular: "statefulset",
		ShortNames: []string{"sts"}, Categories: []string{"all"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/statefulsets",
		NewFunc: func() runtime.Object { return &appsv1.StatefulSet{} }, NewList: func() runtime.Object { return &appsv1.StatefulSetList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		NameFunc:       NameFunc,
		Table:          printers.StatefulSets(),
		Subresources:   []registry.Subresource{apps.ScaleSubresource()},
	}
}
