package serviceaccount

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 serviceaccounts, with the token subresource
// (TokenRequest).
func Resource(deps registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("ServiceAccount"), Name: "serviceaccounts", Singular: "serviceaccount",
		ShortNames: []string{"sa"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/serviceaccounts",
		NewFunc: func() runtime.Object { return &corev1.ServiceAccount{} }, NewList: func() runtime.Object { return &corev1.ServiceAccountList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		Subresources: []registry.Subresource{tokenSubresource(deps)},
		Table:        printers.ServiceAccounts(),
	}
}
