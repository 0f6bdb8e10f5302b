package endpointslice

import (
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes discovery.k8s.io/v1 endpointslices.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"), Name: "endpointslices", Singular: "endpointslice",
		Namespaced: true,
		Verbs:      registry.AllVerbs, KeyRoot: "/endpointslices",
		NewFunc: func() runtime.Object { return &discoveryv1.EndpointSlice{} }, NewList: func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
		Strategy: NewStrategy(),
		Table:    printers.EndpointSlices(),
	}
}
