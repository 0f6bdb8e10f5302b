package server

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/daemonset"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/deployment"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/replicaset"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/statefulset"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/batch/job"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/coordination/lease"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/configmap"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/endpoints"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/event"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/namespace"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/node"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/pod"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/secret"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/service"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/serviceaccount"
	eventsv1reg "github.com/kinc-dev/kinc/pkg/apiserver/registry/events/event"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrole"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrolebinding"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/role"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/rolebinding"
)

// Verb sets of discovery.
var (
	allVerbs       = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	namespaceVerbs = []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	viewVerbs      = []string{"get", "patch", "update"}
)

// resourceSpec describes one served resource before it is wired to storage.
type resourceSpec struct {
	gvk        schema.GroupVersionKind
	name       string
	singular   string
	shortNames []string
	categories []string
	namespaced bool
	keyRoot    string // below --etcd-prefix, as upstream lays out etcd
	newFunc    func() runtime.Object
	newList    func() runtime.Object
	verbs      []string

	strategy       registry.Strategy
	statusStrategy registry.Strategy // nil: no /status
	attrs          registry.AttrFunc
	cacheAttrs     registry.AttrFunc // the watch cache's, when wider than attrs
	nameFunc       apivalidation.ValidateNameFunc
	scale          bool // has /scale (autoscaling/v1 Scale)
	ttlSeconds     uint64
	createOnUpdate bool
	// storedAs, when set, serves this resource from the storage of another
	// (sharesWith), converting objects on the way: events.k8s.io/v1 events
	// are core/v1 events.
	storedAs   *converter
	sharesWith schema.GroupVersionResource
}

var (
	scaleGVK   = autoscalingv1.SchemeGroupVersion.WithKind("Scale")
	bindingGVK = corev1.SchemeGroupVersion.WithKind("Binding")
)

// catalog returns every resource kinc serves, with its strategies.
func catalog(st strategies) []resourceSpec {
	core := corev1.SchemeGroupVersion
	apps := appsv1.SchemeGroupVersion
	return []resourceSpec{
		{gvk: core.WithKind("Namespace"), name: "namespaces", singular: "namespace", shortNames: []string{"ns"},
			keyRoot: "/namespaces", verbs: namespaceVerbs, nameFunc: namespace.NameFunc,
			newFunc: func() runtime.Object { return &corev1.Namespace{} }, newList: func() runtime.Object { return &corev1.NamespaceList{} },
			strategy: st.namespace, statusStrategy: st.namespaceStatus, attrs: namespace.GetAttrs},
		{gvk: core.WithKind("Pod"), name: "pods", singular: "pod", shortNames: []string{"po"}, categories: []string{"all"},
			namespaced: true, keyRoot: "/pods", verbs: allVerbs,
			newFunc: func() runtime.Object { return &corev1.Pod{} }, newList: func() runtime.Object { return &corev1.PodList{} },
			strategy: st.pod, statusStrategy: st.podStatus, attrs: pod.GetAttrs},
		{gvk: core.WithKind("Node"), name: "nodes", singular: "node", shortNames: []string{"no"},
			keyRoot: "/minions", verbs: allVerbs,
			newFunc: func() runtime.Object { return &corev1.Node{} }, newList: func() runtime.Object { return &corev1.NodeList{} },
			strategy: st.node, statusStrategy: st.nodeStatus, attrs: node.GetAttrs},
		{gvk: core.WithKind("Service"), name: "services", singular: "service", shortNames: []string{"svc"}, categories: []string{"all"},
			namespaced: true, keyRoot: "/services/specs", verbs: allVerbs, nameFunc: service.NameFunc,
			newFunc: func() runtime.Object { return &corev1.Service{} }, newList: func() runtime.Object { return &corev1.ServiceList{} },
			strategy: st.service, statusStrategy: st.serviceStatus, attrs: service.GetAttrs},
		{gvk: core.WithKind("Endpoints"), name: "endpoints", singular: "endpoints", shortNames: []string{"ep"},
			namespaced: true, keyRoot: "/services/endpoints", verbs: allVerbs, createOnUpdate: true,
			newFunc: func() runtime.Object { return &corev1.Endpoints{} }, newList: func() runtime.Object { return &corev1.EndpointsList{} },
			strategy: st.endpoints, attrs: endpoints.GetAttrs},
		{gvk: core.WithKind("ConfigMap"), name: "configmaps", singular: "configmap", shortNames: []string{"cm"},
			namespaced: true, keyRoot: "/configmaps", verbs: allVerbs,
			newFunc: func() runtime.Object { return &corev1.ConfigMap{} }, newList: func() runtime.Object { return &corev1.ConfigMapList{} },
			strategy: st.configMap, attrs: configmap.GetAttrs},
		{gvk: core.WithKind("Secret"), name: "secrets", singular: "secret",
			namespaced: true, keyRoot: "/secrets", verbs: allVerbs,
			newFunc: func() runtime.Object { return &corev1.Secret{} }, newList: func() runtime.Object { return &corev1.SecretList{} },
			strategy: st.secret, attrs: secret.GetAttrs},
		{gvk: core.WithKind("ServiceAccount"), name: "serviceaccounts", singular: "serviceaccount", shortNames: []string{"sa"},
			namespaced: true, keyRoot: "/serviceaccounts", verbs: allVerbs,
			newFunc: func() runtime.Object { return &corev1.ServiceAccount{} }, newList: func() runtime.Object { return &corev1.ServiceAccountList{} },
			strategy: st.serviceAccount, attrs: serviceaccount.GetAttrs},
		{gvk: core.WithKind("Event"), name: "events", singular: "event", shortNames: []string{"ev"},
			namespaced: true, keyRoot: "/events", verbs: allVerbs, ttlSeconds: 3600,
			newFunc: func() runtime.Object { return &corev1.Event{} }, newList: func() runtime.Object { return &corev1.EventList{} },
			strategy: st.event, attrs: event.GetAttrs, cacheAttrs: eventAttrs},
		{gvk: eventsv1.SchemeGroupVersion.WithKind("Event"), name: "events", singular: "event", shortNames: []string{"ev"},
			namespaced: true, keyRoot: "/events", verbs: allVerbs, ttlSeconds: 3600,
			storedAs: &eventsConverter, sharesWith: core.WithResource("events"),
			newFunc: func() runtime.Object { return &eventsv1.Event{} }, newList: func() runtime.Object { return &eventsv1.EventList{} },
			strategy: st.eventV1, attrs: eventsv1reg.GetAttrs},
		{gvk: coordinationv1.SchemeGroupVersion.WithKind("Lease"), name: "leases", singular: "lease",
			namespaced: true, keyRoot: "/leases", verbs: allVerbs, createOnUpdate: true,
			newFunc: func() runtime.Object { return &coordinationv1.Lease{} }, newList: func() runtime.Object { return &coordinationv1.LeaseList{} },
			strategy: st.lease, attrs: lease.GetAttrs},
		{gvk: apps.WithKind("Deployment"), name: "deployments", singular: "deployment", shortNames: []string{"deploy"}, categories: []string{"all"},
			namespaced: true, keyRoot: "/deployments", verbs: allVerbs, scale: true,
			newFunc: func() runtime.Object { return &appsv1.Deployment{} }, newList: func() runtime.Object { return &appsv1.DeploymentList{} },
			strategy: st.deployment, statusStrategy: st.deploymentStatus, attrs: deployment.GetAttrs},
		{gvk: apps.WithKind("ReplicaSet"), name: "replicasets", singular: "replicaset", shortNames: []string{"rs"}, categories: []string{"all"},
			namespaced: true, keyRoot: "/replicasets", verbs: allVerbs, scale: true,
			newFunc: func() runtime.Object { return &appsv1.ReplicaSet{} }, newList: func() runtime.Object { return &appsv1.ReplicaSetList{} },
			strategy: st.replicaSet, statusStrategy: st.replicaSetStatus, attrs: replicaset.GetAttrs},
		{gvk: apps.WithKind("DaemonSet"), name: "daemonsets", singular: "daemonset", shortNames: []string{"ds"}, categories: []string{"all"},
			namespaced: true, keyRoot: "/daemonsets", verbs: allVerbs,
			newFunc: func() runtime.Object { return &appsv1.DaemonSet{} }, newList: func() runtime.Object { return &appsv1.DaemonSetList{} },
			strategy: st.daemonSet, statusStrategy: st.daemonSetStatus, attrs: daemonset.GetAttrs},
		{gvk: apps.WithKind("StatefulSet"), name: "statefulsets", singular: "statefulset", shortNames: []string{"sts"}, categories: []string{"all"},
			namespaced: true, keyRoot: "/statefulsets", verbs: allVerbs, scale: true, nameFunc: statefulset.NameFunc,
			newFunc: func() runtime.Object { return &appsv1.StatefulSet{} }, newList: func() runtime.Object { return &appsv1.StatefulSetList{} },
			strategy: st.statefulSet, statusStrategy: st.statefulSetStatus, attrs: statefulset.GetAttrs},
		{gvk: batchv1.SchemeGroupVersion.WithKind("Job"), name: "jobs", singular: "job", categories: []string{"all"},
			namespaced: true, keyRoot: "/jobs", verbs: allVerbs,
			newFunc: func() runtime.Object { return &batchv1.Job{} }, newList: func() runtime.Object { return &batchv1.JobList{} },
			strategy: st.job, statusStrategy: st.jobStatus, attrs: job.GetAttrs},
		{gvk: rbacv1.SchemeGroupVersion.WithKind("Role"), name: "roles", singular: "role",
			namespaced: true, keyRoot: "/roles", verbs: allVerbs, nameFunc: rbac.NameFunc,
			newFunc: func() runtime.Object { return &rbacv1.Role{} }, newList: func() runtime.Object { return &rbacv1.RoleList{} },
			strategy: st.role, attrs: role.GetAttrs},
		{gvk: rbacv1.SchemeGroupVersion.WithKind("RoleBinding"), name: "rolebindings", singular: "rolebinding",
			namespaced: true, keyRoot: "/rolebindings", verbs: allVerbs, nameFunc: rbac.NameFunc,
			newFunc: func() runtime.Object { return &rbacv1.RoleBinding{} }, newList: func() runtime.Object { return &rbacv1.RoleBindingList{} },
			strategy: st.roleBinding, attrs: rolebinding.GetAttrs},
		{gvk: rbacv1.SchemeGroupVersion.WithKind("ClusterRole"), name: "clusterroles", singular: "clusterrole",
			keyRoot: "/clusterroles", verbs: allVerbs, nameFunc: rbac.NameFunc,
			newFunc: func() runtime.Object { return &rbacv1.ClusterRole{} }, newList: func() runtime.Object { return &rbacv1.ClusterRoleList{} },
			strategy: st.clusterRole, attrs: clusterrole.GetAttrs},
		{gvk: rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"), name: "clusterrolebindings", singular: "clusterrolebinding",
			keyRoot: "/clusterrolebindings", verbs: allVerbs, nameFunc: rbac.NameFunc,
			newFunc: func() runtime.Object { return &rbacv1.ClusterRoleBinding{} }, newList: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} },
			strategy: st.clusterRoleBinding, attrs: clusterrolebinding.GetAttrs},
	}
}
