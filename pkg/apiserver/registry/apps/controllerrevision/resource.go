package controllerrevision

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes apps/v1 controllerrevisions.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: appsv1.SchemeGroupVersion.WithKind("ControllerRevision"), Name: "controllerrevisions", Singular: "controllerrevision",
		Namespaced: true,
		Verbs:      registry.AllVerbs, KeyRoot: "/controllerrevisions",
		NewFunc: func() runtime.Object { return &appsv1.ControllerRevision{} }, NewList: func() runtime.Object { return &appsv1.ControllerRevisionList{} },
		Strategy: NewStrategy(),
		Table:    printers.ControllerRevisions(),
	}
}
