package bootstrappolicy

import (
	rbacv1 "k8s.io/api/rbac/v1"
)

// Users and groups the default bindings name.
const (
	groupMasters          = "system:masters"
	groupMonitoring       = "system:monitoring"
	groupAuthenticated    = "system:authenticated"
	groupUnauthenticated  = "system:unauthenticated"
	groupServiceAccounts  = "system:serviceaccounts"
	userKubeProxy         = "system:kube-proxy"
	userControllerManager = "system:kube-controller-manager"
	userScheduler         = "system:kube-scheduler"
)

// ClusterRoleBindings returns the default ClusterRoleBindings other than
// the per-controller ones (ControllerRoleBindings), sorted by name. Each is
// named after the ClusterRole it binds. system:node binds nobody: the Node
// authorizer grants kubelets their access, and the binding only exists so
// that older clusters' subjects can be removed from it.
func ClusterRoleBindings() []rbacv1.ClusterRoleBinding {
	return []rbacv1.ClusterRoleBinding{
		clusterRoleBinding("cluster-admin", group(groupMasters)),
		clusterRoleBinding("system:basic-user", group(groupAuthenticated)),
		clusterRoleBinding("system:cluster-trust-bundle-discovery", group(groupServiceAccounts)),
		clusterRoleBinding("system:discovery", group(groupAuthenticated)),
		clusterRoleBinding("system:kube-controller-manager", user(userControllerManager)),
		clusterRoleBinding("system:kube-dns", serviceAccount("kube-system", "kube-dns")),
		clusterRoleBinding("system:kube-scheduler", user(userScheduler)),
		clusterRoleBinding("system:monitoring", group(groupMonitoring)),
		clusterRoleBinding("system:node"),
		clusterRoleBinding("system:node-proxier", user(userKubeProxy)),
		clusterRoleBinding("system:public-info-viewer", group(groupAuthenticated), group(groupUnauthenticated)),
		clusterRoleBinding("system:service-account-issuer-discovery", group(groupServiceAccounts)),
		clusterRoleBinding("system:volume-scheduler", user(userScheduler)),
	}
}

// role returns a bootstrap Role of namespace.
func role(namespace, name string, rules ...rbacv1.PolicyRule) rbacv1.Role {
	return rbacv1.Role{ObjectMeta: objectMeta(namespace, name), Rules: rules}
}

// NamespaceRoles returns the default Roles of kube-system and kube-public,
// sorted by namespace and name.
func NamespaceRoles() []rbacv1.Role {
	return []rbacv1.Role{
		role("kube-public", "system:controller:bootstrap-signer",
			rule(read, g(core), "configmaps"),
			namedRule("update", g(core), names("cluster-info"), "configmaps"),
			eventsRule(),
		),
		role("kube-system", "extension-apiserver-authentication-reader",
			namedRule(read, g(core), names("extension-apiserver-authentication"), "configmaps"),
		),
		role("kube-system", "system::leader-locking-kube-controller-manager",
			rule("create get list update watch", g(coordination), "leases"),
			rule("create get list update watch", g(coordination), "leasecandidates"),
		),
		role("kube-system", "system::leader-locking-kube-scheduler",
			rule("create get list update watch", g(coordination), "leases"),
			rule("create get list update watch", g(coordination), "leasecandidates"),
		),
		role("kube-system", "system:controller:bootstrap-signer",
			rule(read, g(core), "secrets"),
		),
		role("kube-system", "system:controller:cloud-provider",
			rule("create get list watch", g(core), "configmaps"),
		),
		role("kube-system", "system:controller:token-cleaner",
			rule("delete get list watch", g(core), "secrets"),
			eventsRule(),
		),
	}
}

// NamespaceRoleBindings returns the default RoleBindings of kube-system and
// kube-public, sorted by namespace and name.
func NamespaceRoleBindings() []rbacv1.RoleBinding {
	return []rbacv1.RoleBinding{
		roleBinding("kube-public", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
			serviceAccount("kube-system", "bootstrap-signer")),
		roleBinding("kube-system", "system::extension-apiserver-authentication-reader", "extension-apiserver-authentication-reader",
			user(userControllerManager), user(userScheduler)),
		roleBinding("kube-system", "system::leader-locking-kube-controller-manager", "system::leader-locking-kube-controller-manager",
			user(userControllerManager), serviceAccount("kube-system", "kube-controller-manager"),
			serviceAccount("kube-system", "leader-election-controller")),
		roleBinding("kube-system", "system::leader-locking-kube-scheduler", "system::leader-locking-kube-scheduler",
			user(userScheduler), serviceAccount("kube-system", "kube-scheduler")),
		roleBinding("kube-system", "system:controller:bootstrap-signer", "system:controller:bootstrap-signer",
			serviceAccount("kube-system", "bootstrap-signer")),
		roleBinding("kube-system", "system:controller:cloud-provider", "system:controller:cloud-provider",
			serviceAccount("kube-system", "cloud-provider")),
		roleBinding("kube-system", "system:controller:token-cleaner", "system:controller:token-cleaner",
			serviceAccount("kube-system", "token-cleaner")),
	}
}
