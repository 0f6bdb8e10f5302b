// Package rbac holds what the rbac.authorization.k8s.io/v1 registry
// packages (role, rolebinding, clusterrole, clusterrolebinding) share:
// upstream's name rule (a path segment, so "system:..." names are valid),
// policy-rule, roleRef and subject validation, the v1 defaults of
// roleRef.apiGroup and subject apiGroup, and RBAC's escalation prevention
// (GuardRoles, GuardBindings): nobody grants, through a role or a binding,
// permissions they do not hold, unless allowed to escalate or bind.
package rbac
