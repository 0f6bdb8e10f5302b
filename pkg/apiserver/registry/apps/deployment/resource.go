package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps"
)

// Resource describes apps/v1 deployments.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: appsv1.SchemeGroupVersion.WithKind("Deployment"), Name: "deployments", Singular: "deployment",
		ShortNames: []string{"deploy"}, Categories: []string{"all"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/deployments",
		NewFunc: func() runtime.Object { return &appsv1.Deployment{} }, NewList: func() runtime.Object { return &appsv1.DeploymentList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		Table:          printers.Deployments(),
		Subresources:   []registry.Subresource{apps.ScaleSubresource()},
	}
}
