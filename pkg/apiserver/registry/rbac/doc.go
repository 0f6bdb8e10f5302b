// Package rbac holds what the rbac.authorization.k8s.io/v1 registry
// packages (role, rolebinding, clusterrole, clusterrolebinding) share:
// upstream's name rule (a path segment, so "system:..." names are valid),
// policy-rule, roleRef and subject validation, and the v1 defaults of
// roleRef.apiGroup and subject apiGroup.
package rbac
