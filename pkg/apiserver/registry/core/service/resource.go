package service

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 Services. Cluster IPs are allocated from
// deps.ServiceClusterIPRange and node ports from the default range; both
// allocators seed themselves from the stored services (deps.Stores).
// services/proxy reaches a ready endpoint of the service.
func Resource(deps registry.Deps) registry.Resource {
	list := func(ctx context.Context) ([]*corev1.Service, error) {
		return listServices(ctx, deps.Stores(corev1.SchemeGroupVersion.WithResource("services")))
	}
	ips := NewClusterIPAllocator(deps.ServiceClusterIPRange, list)
	ports := NewNodePortAllocator(DefaultNodePortBase, DefaultNodePortSize, list)
	strategy := NewStrategyWithAllocators(ips, ports)
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("Service"), Name: "services", Singular: "service",
		ShortNames: []string{"svc"}, Categories: []string{"all"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/services/specs",
		NewFunc: func() runtime.Object { return &corev1.Service{} }, NewList: func() runtime.Object { return &corev1.ServiceList{} },
		Attrs: GetAttrs, Strategy: strategy,
		StatusStrategy: NewStatusStrategy(),
		NameFunc:       NameFunc,
		Table:          printers.Services(),
		Subresources:   []registry.Subresource{proxySubresource(deps)},
	}
}

// listServices lists every service in st, for the allocators' seeding.
func listServices(ctx context.Context, st registry.Store) ([]*corev1.Service, error) {
	obj, err := st.List(ctx, "", nil)
	if err != nil {
		return nil, err
	}
	list := obj.(*corev1.ServiceList)
	out := make([]*corev1.Service, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, &list.Items[i])
	}
	return out, nil
}
