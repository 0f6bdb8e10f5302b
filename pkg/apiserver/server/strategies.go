package server

import (
	"context"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"

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
	eventsv1 "github.com/kinc-dev/kinc/pkg/apiserver/registry/events/event"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrole"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrolebinding"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/role"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/rolebinding"
)

// strategies holds the per-kind rules the catalog wires in.
type strategies struct {
	namespace, namespaceStatus                   registry.Strategy
	pod, podStatus                               registry.Strategy
	node, nodeStatus                             registry.Strategy
	service, serviceStatus                       registry.Strategy
	endpoints, configMap, secret, serviceAccount registry.Strategy
	event, eventV1, lease                        registry.Strategy
	deployment, deploymentStatus                 registry.Strategy
	replicaSet, replicaSetStatus                 registry.Strategy
	daemonSet, daemonSetStatus                   registry.Strategy
	statefulSet, statefulSetStatus               registry.Strategy
	job, jobStatus                               registry.Strategy
	role, roleBinding                            registry.Strategy
	clusterRole, clusterRoleBinding              registry.Strategy
}

// newStrategies returns the strategies of every kind. Services allocate
// cluster IPs from serviceCIDR and node ports from the default range;
// listServices seeds the allocators with what is already stored.
func newStrategies(serviceCIDR string, listServices service.ListServices) (strategies, error) {
	_, cidr, err := net.ParseCIDR(serviceCIDR)
	if err != nil {
		return strategies{}, fmt.Errorf("--service-cluster-ip-range: %w", err)
	}
	ips := service.NewClusterIPAllocator(cidr, listServices)
	ports := service.NewNodePortAllocator(service.DefaultNodePortBase, service.DefaultNodePortSize, listServices)
	return strategies{
		namespace: namespace.NewStrategy(), namespaceStatus: namespace.NewStatusStrategy(),
		pod: pod.NewStrategy(), podStatus: pod.NewStatusStrategy(),
		node: node.NewStrategy(), nodeStatus: node.NewStatusStrategy(),
		service: service.NewStrategyWithAllocators(ips, ports), serviceStatus: service.NewStatusStrategy(),
		endpoints: endpoints.NewStrategy(), configMap: configmap.NewStrategy(), secret: secret.NewStrategy(),
		serviceAccount: serviceaccount.NewStrategy(),
		event:          event.NewStrategy(), eventV1: eventsv1.NewStrategy(), lease: lease.NewStrategy(),
		deployment: deployment.NewStrategy(), deploymentStatus: deployment.NewStatusStrategy(),
		replicaSet: replicaset.NewStrategy(), replicaSetStatus: replicaset.NewStatusStrategy(),
		daemonSet: daemonset.NewStrategy(), daemonSetStatus: daemonset.NewStatusStrategy(),
		statefulSet: statefulset.NewStrategy(), statefulSetStatus: statefulset.NewStatusStrategy(),
		job: job.NewStrategy(), jobStatus: job.NewStatusStrategy(),
		role: role.NewStrategy(), roleBinding: rolebinding.NewStrategy(),
		clusterRole: clusterrole.NewStrategy(), clusterRoleBinding: clusterrolebinding.NewStrategy(),
	}, nil
}

// serviceLister lists every stored service; set once the services store
// exists (the allocators need it, the store needs the allocators).
type serviceLister struct {
	list func(ctx context.Context) ([]*corev1.Service, error)
}

func (l *serviceLister) services(ctx context.Context) ([]*corev1.Service, error) {
	return l.list(ctx)
}
