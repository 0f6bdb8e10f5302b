package server

import (
	"github.com/kinc-dev/kinc/pkg/apiserver/openapi"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/version"
)

// newOpenAPI describes the served resources for /openapi/v2 and /openapi/v3.
// The documents are built on first request.
func newOpenAPI(ds []registry.Resource) (*openapi.Service, error) {
	return openapi.New(version.KubernetesVersion, openAPIResources(ds))
}

// openAPIResources describes ds as the openapi package needs them.
func openAPIResources(ds []registry.Resource) []openapi.Resource {
	rs := make([]openapi.Resource, 0, len(ds))
	for i := range ds {
		d := &ds[i]
		o := openapi.Resource{Group: d.GVK.Group, Version: d.GVK.Version, Resource: d.Name, Kind: d.GVK.Kind,
			Namespaced: d.Namespaced, Verbs: d.Verbs}
		for _, s := range d.AllSubresources() {
			sub := openapi.Subresource{Name: s.Name, GVK: s.Kind, Verbs: s.Verbs, Options: s.Options, Produces: s.Produces,
				ConnectMethods: s.ConnectMethods}
			if sub.GVK.Empty() {
				sub.GVK = d.GVK
			}
			o.Subresources = append(o.Subresources, sub)
		}
		rs = append(rs, o)
	}
	return rs
}
