package openapi

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// servedResources is a representative API surface: what kinc's apiserver
// serves, with the subresource shapes upstream has.
func servedResources() []Resource {
	all := []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	statusVerbs := []string{"get", "patch", "update"}
	status := Subresource{Name: "status", Verbs: statusVerbs}
	scale := Subresource{Name: "scale", GVK: schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, Verbs: statusVerbs}
	return []Resource{
		{Version: "v1", Resource: "pods", Kind: "Pod", Namespaced: true, Verbs: all, Subresources: []Subresource{
			status,
			{Name: "binding", GVK: schema.GroupVersionKind{Version: "v1", Kind: "Binding"}, Verbs: []string{"create"}},
			{Name: "eviction", GVK: schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, Verbs: []string{"create"}},
			{Name: "log", Verbs: []string{"get"}, Options: &corev1.PodLogOptions{}, Produces: []string{"text/plain"}},
			{Name: "exec", GVK: schema.GroupVersionKind{Version: "v1", Kind: "PodExecOptions"}, Verbs: []string{"create", "get"},
				Options: &corev1.PodExecOptions{}, ConnectMethods: []string{"GET", "POST"}},
		}},
		{Version: "v1", Resource: "nodes", Kind: "Node", Verbs: all, Subresources: []Subresource{
			status,
			{Name: "proxy", GVK: schema.GroupVersionKind{Version: "v1", Kind: "NodeProxyOptions"}, Verbs: []string{"create", "delete", "get", "patch", "update"},
				Options: &corev1.NodeProxyOptions{}, ConnectMethods: []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"}},
		}},
		{Version: "v1", Resource: "namespaces", Kind: "Namespace", Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"},
			Subresources: []Subresource{status}},
		{Version: "v1", Resource: "services", Kind: "Service", Namespaced: true, Verbs: all, Subresources: []Subresource{status}},
		{Version: "v1", Resource: "configmaps", Kind: "ConfigMap", Namespaced: true, Verbs: all},
		{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true, Verbs: all},
		{Version: "v1", Resource: "serviceaccounts", Kind: "ServiceAccount", Namespaced: true, Verbs: all},
		{Version: "v1", Resource: "events", Kind: "Event", Namespaced: true, Verbs: all},
		{Version: "v1", Resource: "endpoints", Kind: "Endpoints", Namespaced: true, Verbs: all},
		{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Namespaced: true, Verbs: all, Subresources: []Subresource{status, scale}},
		{Group: "apps", Version: "v1", Resource: "replicasets", Kind: "ReplicaSet", Namespaced: true, Verbs: all, Subresources: []Subresource{status, scale}},
		{Group: "apps", Version: "v1", Resource: "statefulsets", Kind: "StatefulSet", Namespaced: true, Verbs: all, Subresources: []Subresource{status, scale}},
		{Group: "apps", Version: "v1", Resource: "daemonsets", Kind: "DaemonSet", Namespaced: true, Verbs: all, Subresources: []Subresource{status}},
		{Group: "batch", Version: "v1", Resource: "jobs", Kind: "Job", Namespaced: true, Verbs: all, Subresources: []Subresource{status}},
		{Group: "coordination.k8s.io", Version: "v1", Resource: "leases", Kind: "Lease", Namespaced: true, Verbs: all},
		{Group: "events.k8s.io", Version: "v1", Resource: "events", Kind: "Event", Namespaced: true, Verbs: all},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles", Kind: "ClusterRole", Verbs: all},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles", Kind: "Role", Namespaced: true, Verbs: all},
		{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets", Kind: "PodDisruptionBudget", Namespaced: true, Verbs: all, Subresources: []Subresource{status}},
	}
}
