// Package bootstrappolicy holds upstream's default RBAC policy (Kubernetes
// v1.37.2, default feature gates) as data: the ClusterRoles cluster-admin,
// admin/edit/view and the system:* roles, the per-controller roles of the
// kube-controller-manager's service accounts, the Roles of kube-system and
// kube-public, and the bindings of all of them. Every object carries the
// label kubernetes.io/bootstrapping=rbac-defaults and the annotation
// rbac.authorization.kubernetes.io/autoupdate=true.
//
// Reconcile writes the policy into the server's stores at startup as
// upstream's rbac/bootstrap-roles post-start hook does: missing objects are
// created; existing ones whose autoupdate annotation is not "false" get the
// rules, subjects, aggregation selectors, labels and annotations they lack
// (a union: nothing is removed); the rest are left alone.
//
// Every function returns fresh objects: callers may modify them.
package bootstrappolicy
