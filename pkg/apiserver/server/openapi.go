package server

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/openapi"
	"github.com/kinc-dev/kinc/pkg/version"
)

// newOpenAPI describes the served resources for /openapi/v2 and /openapi/v3.
// The documents are built on first request.
func newOpenAPI(resources []*handlers.Resource) (*openapi.Service, error) {
	var rs []openapi.Resource
	for _, r := range resources {
		o := openapi.Resource{Group: r.GVK.Group, Version: r.GVK.Version, Resource: r.Name, Kind: r.GVK.Kind,
			Namespaced: r.Namespaced, Verbs: r.Verbs}
		for _, s := range r.Subresources {
			sub := openapi.Subresource{Name: s.Name, GVK: s.Kind, Verbs: s.Verbs}
			if r.Name == "pods" && s.Name == "log" {
				sub.Options = &corev1.PodLogOptions{}
				sub.Produces = []string{"text/plain"}
			}
			o.Subresources = append(o.Subresources, sub)
		}
		rs = append(rs, o)
	}
	return openapi.New(version.KubernetesVersion, rs)
}
