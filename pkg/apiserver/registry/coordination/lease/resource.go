package lease

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes coordination/v1 leases.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: coordinationv1.SchemeGroupVersion.WithKind("Lease"), Name: "leases", Singular: "lease",
		Namespaced: true,
		Verbs:      registry.AllVerbs, KeyRoot: "/leases",
		NewFunc: func() runtime.Object { return &coordinationv1.Lease{} }, NewList: func() runtime.Object { return &coordinationv1.LeaseList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		Table:          printers.Leases(),
		CreateOnUpdate: true,
	}
}
