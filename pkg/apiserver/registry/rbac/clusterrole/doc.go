// Package clusterrole holds the registry rules of
// rbac.authorization.k8s.io/v1 ClusterRoles (cluster-scoped): path-segment
// names, policy rules (non-resource URLs allowed) and aggregation rules.
package clusterrole
