// Package rolebinding holds the registry rules of
// rbac.authorization.k8s.io/v1 RoleBindings: defaulted api groups, a valid
// and immutable roleRef (Role or ClusterRole), and valid subjects.
package rolebinding
