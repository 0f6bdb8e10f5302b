// Package role holds the registry rules of rbac.authorization.k8s.io/v1
// Roles: path-segment names and resource-only policy rules.
package role
