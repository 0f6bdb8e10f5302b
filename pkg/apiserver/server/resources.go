package server

import (
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/controllerrevision"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/daemonset"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/deployment"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/replicaset"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps/statefulset"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authentication/selfsubjectreview"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authentication/tokenreview"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authorization/localsubjectaccessreview"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authorization/selfsubjectaccessreview"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authorization/selfsubjectrulesreview"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authorization/subjectaccessreview"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/batch/cronjob"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/batch/job"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/certificates/certificatesigningrequest"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/coordination/lease"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/configmap"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/endpoints"
	coreevent "github.com/kinc-dev/kinc/pkg/apiserver/registry/core/event"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/namespace"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/node"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/pod"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/secret"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/service"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/serviceaccount"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/discovery/endpointslice"
	eventsevent "github.com/kinc-dev/kinc/pkg/apiserver/registry/events/event"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/policy/poddisruptionbudget"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrole"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrolebinding"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/role"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/rolebinding"
)

// resources returns every resource kinc serves, in discovery's order. A
// resource whose storage is shared (registry.Resource.SharedStorage) comes
// after the one it shares. Adding a built-in kind is adding its package
// under pkg/apiserver/registry and one line here.
func resources(deps registry.Deps) []registry.Resource {
	return []registry.Resource{
		namespace.Resource(deps),
		pod.Resource(deps),
		node.Resource(deps),
		service.Resource(deps),
		endpoints.Resource(deps),
		endpointslice.Resource(deps),
		configmap.Resource(deps),
		secret.Resource(deps),
		serviceaccount.Resource(deps),
		coreevent.Resource(deps),
		eventsevent.Resource(deps),
		lease.Resource(deps),
		deployment.Resource(deps),
		replicaset.Resource(deps),
		daemonset.Resource(deps),
		statefulset.Resource(deps),
		controllerrevision.Resource(deps),
		tokenreview.Resource(deps),
		selfsubjectreview.Resource(deps),
		localsubjectaccessreview.Resource(deps),
		selfsubjectaccessreview.Resource(deps),
		selfsubjectrulesreview.Resource(deps),
		subjectaccessreview.Resource(deps),
		job.Resource(deps),
		cronjob.Resource(deps),
		certificatesigningrequest.Resource(deps),
		poddisruptionbudget.Resource(deps),
		role.Resource(deps),
		rolebinding.Resource(deps),
		clusterrole.Resource(deps),
		clusterrolebinding.Resource(deps),
	}
}
