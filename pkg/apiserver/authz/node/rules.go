package node

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

var readVerbs = []string{"get", "list", "watch"}

func rule(verbs []string, groups []string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

func verbs(v ...string) []string  { return v }
func groups(g ...string) []string { return g }

// Rules are the permissions every node holds for the resources the Node
// authorizer does not subdivide, as upstream's bootstrap policy NodeRules
// (v1.37 with its default features: DynamicResourceAllocation on,
// CSIVolumeHealth and ClusterTrustBundle off; podcertificaterequests,
// which kinc does not serve, left out). Upstream binds its
// system:node ClusterRole to no one: these rules reach kubelets through the
// Node authorizer only. The returned slice is new on each call.
func Rules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(verbs("create"), groups("authentication.k8s.io"), "tokenreviews"),
		rule(verbs("create"), groups("authorization.k8s.io"), "subjectaccessreviews", "localsubjectaccessreviews"),
		rule(readVerbs, groups(""), "services"),
		rule(verbs("create", "get", "list", "watch"), groups(""), "nodes"),
		rule(verbs("update", "patch"), groups(""), "nodes/status"),
		rule(verbs("update", "patch"), groups(""), "nodes"),
		rule(verbs("create", "update", "patch"), groups("", "events.k8s.io"), "events"),
		rule(readVerbs, groups(""), "pods"),
		rule(verbs("create", "delete"), groups(""), "pods"),
		rule(verbs("update", "patch"), groups(""), "pods/status"),
		rule(verbs("create"), groups(""), "pods/eviction"),
		rule(verbs("get", "list", "watch"), groups(""), "secrets", "configmaps"),
		rule(verbs("get"), groups(""), "persistentvolumeclaims", "persistentvolumes"),
		rule(verbs("get"), groups(""), "endpoints"),
		rule(verbs("create", "get", "list", "watch"), groups("certificates.k8s.io"), "certificatesigningrequests"),
		rule(verbs("get", "create", "update", "patch", "delete"), groups("coordination.k8s.io"), "leases"),
		rule(verbs("get"), groups("storage.k8s.io"), "volumeattachments"),
		rule(verbs("create"), groups(""), "serviceaccounts/token"),
		rule(verbs("get", "update", "patch"), groups(""), "persistentvolumeclaims/status"),
		rule(readVerbs, groups("storage.k8s.io"), "csidrivers"),
		rule(verbs("get", "create", "update", "patch", "delete"), groups("storage.k8s.io"), "csinodes"),
		rule(readVerbs, groups("node.k8s.io"), "runtimeclasses"),
		rule(verbs("get"), groups("resource.k8s.io"), "resourceclaims"),
		rule(verbs("deletecollection"), groups("resource.k8s.io"), "resourceslices"),
		rule(verbs("get"), groups(""), "serviceaccounts"),
	}
}

// rulesAllow reports whether one of rules allows the resource request a,
// as RBAC matches a rule (no resourceNames or wildcards in the node rules,
// but honoured anyway).
func rulesAllow(a authz.Attributes, rules []rbacv1.PolicyRule) bool {
	if !a.IsResourceRequest {
		return false
	}
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	for _, r := range rules {
		if matches(r.Verbs, a.Verb) && matches(r.APIGroups, a.APIGroup) && matches(r.Resources, res) &&
			(len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, a.Name)) {
			return true
		}
	}
	return false
}

func matches(set []string, v string) bool {
	return slices.Contains(set, v) || slices.Contains(set, "*")
}
