package configmap

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 configmaps.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("ConfigMap"), Name: "configmaps", Singular: "configmap",
		ShortNames: []string{"cm"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/configmaps",
		NewFunc: func() runtime.Object { return &corev1.ConfigMap{} }, NewList: func() runtime.Object { return &corev1.ConfigMapList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		Table: printers.ConfigMaps(),
	}
}
