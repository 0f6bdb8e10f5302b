package daemonset

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes apps/v1 daemonsets.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: appsv1.SchemeGroupVersion.WithKind("DaemonSet"), Name: "daemonsets", Singular: "daemonset",
		ShortNames: []string{"ds"}, Categories: []string{"all"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/daemonsets",
		NewFunc: func() runtime.Object { return &appsv1.DaemonSet{} }, NewList: func() runtime.Object { return &appsv1.DaemonSetList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		Table:          printers.DaemonSets(),
	}
}
