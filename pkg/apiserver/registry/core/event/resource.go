package event

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 events.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("Event"), Name: "events", Singular: "event",
		ShortNames: []string{"ev"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/events",
		NewFunc: func() runtime.Object { return &corev1.Event{} }, NewList: func() runtime.Object { return &corev1.EventList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		Table:      printers.Events(),
		TTLSeconds: 3600,
	}
}
