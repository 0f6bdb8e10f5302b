package bootstrappolicy

import (
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Metadata of every bootstrap object.
const (
	// AutoUpdateAnnotation is rbacv1.AutoUpdateAnnotationKey: "false" keeps
	// Reconcile away from an object.
	AutoUpdateAnnotation = rbacv1.AutoUpdateAnnotationKey
	// BootstrappingLabel marks the objects of the default policy.
	BootstrappingLabel = "kubernetes.io/bootstrapping"
	// BootstrappingValue is BootstrappingLabel's value.
	BootstrappingValue = "rbac-defaults"
)

// API groups the rules name.
const (
	core                  = ""
	all                   = "*"
	admissionRegistration = "admissionregistration.k8s.io"
	apiExtensions         = "apiextensions.k8s.io"
	apps                  = "apps"
	authentication        = "authentication.k8s.io"
	authorization         = "authorization.k8s.io"
	autoscaling           = "autoscaling"
	batch                 = "batch"
	certificates          = "certificates.k8s.io"
	coordination          = "coordination.k8s.io"
	customMetrics         = "custom.metrics.k8s.io"
	discovery             = "discovery.k8s.io"
	events                = "events.k8s.io"
	extensions            = "extensions"
	externalMetrics       = "external.metrics.k8s.io"
	internalAPIServer     = "internal.apiserver.k8s.io"
	lifecycle             = "lifecycle.k8s.io"
	networking            = "networking.k8s.io"
	nodeGroup             = "node.k8s.io"
	policy                = "policy"
	rbacGroup             = rbacv1.GroupName
	resource              = "resource.k8s.io"
	resourceMetrics       = "metrics.k8s.io"
	scheduling            = "scheduling.k8s.io"
	storage               = "storage.k8s.io"
	storageMigration      = "storagemigration.k8s.io"
)

// Verb sets, space-separated, as upstream's Read, ReadWrite, Write and
// ReadUpdate.
const (
	read       = "get list watch"
	readWrite  = "get list watch create update patch delete deletecollection"
	write      = "create update patch delete deletecollection"
	readUpdate = "get list watch update patch"
)

// eventsRule lets a component record events (core and events.k8s.io).
func eventsRule() rbacv1.PolicyRule { return rule("create update patch", g(core, events), "events") }

// g returns API groups.
func g(groups ...string) []string { return groups }

// names returns resource names.
func names(n ...string) []string { return n }

// rule allows verbs (space-separated) on resources of groups. Every list of
// the rule is sorted, as upstream's rule builder does.
func rule(verbs string, groups []string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: sorted(strings.Fields(verbs)), APIGroups: sorted(groups), Resources: sorted(resources)}
}

// namedRule is rule restricted to the objects named.
func namedRule(verbs string, groups, resourceNames []string, resources ...string) rbacv1.PolicyRule {
	r := rule(verbs, groups, resources...)
	r.ResourceNames = sorted(resourceNames)
	return r
}

// urlRule allows verbs on non-resource URLs.
func urlRule(verbs string, urls ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: sorted(strings.Fields(verbs)), NonResourceURLs: sorted(urls)}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// objectMeta returns the metadata of a bootstrap object: its name and
// namespace, the bootstrapping label (and extra labels, "k=v" pairs) and the
// autoupdate annotation.
func objectMeta(namespace, name string, extraLabels ...string) metav1.ObjectMeta {
	labels := map[string]string{BootstrappingLabel: BootstrappingValue}
	for _, kv := range extraLabels {
		k, v, _ := strings.Cut(kv, "=")
		labels[k] = v
	}
	return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels,
		Annotations: map[string]string{AutoUpdateAnnotation: "true"}}
}

// clusterRole returns a bootstrap ClusterRole.
func clusterRole(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
	return rbacv1.ClusterRole{ObjectMeta: objectMeta("", name), Rules: rules}
}

// Subjects.
func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}

func serviceAccount(namespace, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
}

// clusterRoleBinding binds the ClusterRole of the same name to subjects.
func clusterRoleBinding(role string, subjects ...rbacv1.Subject) rbacv1.ClusterRoleBinding {
	return rbacv1.ClusterRoleBinding{ObjectMeta: objectMeta("", role),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects: subjects}
}

// roleBinding binds the Role role of namespace to subjects under name.
func roleBinding(namespace, name, role string, subjects ...rbacv1.Subject) rbacv1.RoleBinding {
	return rbacv1.RoleBinding{ObjectMeta: objectMeta(namespace, name),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role},
		Subjects: subjects}
}
