package node

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 nodes, with nodes/proxy to their kubelets
// (reached with deps.Kubelet).
func Resource(deps registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("Node"), Name: "nodes", Singular: "node",
		ShortNames: []string{"no"},
		Verbs:      registry.AllVerbs, KeyRoot: "/minions",
		NewFunc: func() runtime.Object { return &corev1.Node{} }, NewList: func() runtime.Object { return &corev1.NodeList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		Table:          printers.Nodes(),
		Subresources:   []registry.Subresource{proxySubresource(deps.Kubelet)},
	}
}
