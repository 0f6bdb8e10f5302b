package secret

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 secrets.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("Secret"), Name: "secrets", Singular: "secret",
		Namespaced: true,
		Verbs:      registry.AllVerbs, KeyRoot: "/secrets",
		NewFunc: func() runtime.Object { return &corev1.Secret{} }, NewList: func() runtime.Object { return &corev1.SecretList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		Table: printers.Secrets(),
	}
}
