package pod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/proxy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes core/v1 Pods, with the binding and ephemeralcontainers
// subresources and the connect ones: log, exec, attach and portforward reach the kubelet of the
// pod's node with deps.Kubelet (finding the node through deps.Stores),
// proxy the pod's IP; created and updated pods get the default
// tolerations of deps.DefaultTolerationSeconds (upstream's when nil).
func Resource(deps registry.Deps) registry.Resource {
	kubelets := proxy.NewKubelets(func() registry.Store { return deps.Stores(corev1.SchemeGroupVersion.WithResource("nodes")) }, deps.Kubelet)
	ts := DefaultTolerations()
	if deps.DefaultTolerationSeconds != nil {
		ts = *deps.DefaultTolerationSeconds
	}
	return registry.Resource{
		GVK: corev1.SchemeGroupVersion.WithKind("Pod"), Name: "pods", Singular: "pod",
		ShortNames: []string{"po"}, Categories: []string{"all"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/pods",
		NewFunc: func() runtime.Object { return &corev1.Pod{} }, NewList: func() runtime.Object { return &corev1.PodList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(ts),
		StatusStrategy: NewStatusStrategy(),
		Table:          printers.Pods(),
		Subresources: []registry.Subresource{attachSubresource(kubelets), bindingSubresource(), ephemeralContainersSubresource(),
			execSubresource(kubelets), logSubresource(kubelets), portForwardSubresource(kubelets), proxySubresource()},
	}
}
