// Package clusterrolebinding holds the registry rules of
// rbac.authorization.k8s.io/v1 ClusterRoleBindings (cluster-scoped):
// defaulted api groups, a valid and immutable roleRef (ClusterRole only),
// and valid subjects (service accounts need a namespace).
package clusterrolebinding
