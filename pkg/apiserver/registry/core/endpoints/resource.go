package endpoints

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 endpoints.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("Endpoints"), Name: "endpoints", Singular: "endpoints",
		ShortNames: []string{"ep"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/services/endpoints",
		NewFunc: func() runtime.Object { return &corev1.Endpoints{} }, NewList: func() runtime.Object { return &corev1.EndpointsList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		Table:          printers.Endpoints(),
		CreateOnUpdate: true,
	}
}
