package printers

import (
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// roleBindingColumns returns the (cluster)rolebinding columns; kind is
// "roleBinding" or "clusterRoleBinding" and only shows in descriptions, as upstream.
// Roles and clusterroles have no printer upstream: they get the default table.
func roleBindingColumns(kind string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Role", "string", rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"]),
		ageColumn(),
		wideCol("Users", "string", "Users in the "+kind),
		wideCol("Groups", "string", "Groups in the "+kind),
		wideCol("ServiceAccounts", "string", "ServiceAccounts in the "+kind),
	}
}

func printRoleBinding(rb *rbacv1.RoleBinding, e *env) metav1.TableRow {
	return bindingRow(rb.Name, rb.RoleRef, rb.Subjects, e.since(rb.CreationTimestamp))
}

func printClusterRoleBinding(crb *rbacv1.ClusterRoleBinding, e *env) metav1.TableRow {
	return bindingRow(crb.Name, crb.RoleRef, crb.Subjects, e.since(crb.CreationTimestamp))
}

func bindingRow(name string, ref rbacv1.RoleRef, subjects []rbacv1.Subject, age string) metav1.TableRow {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return metav1.TableRow{Cells: []interface{}{
		name,
		fmt.Sprintf("%s/%s", ref.Kind, ref.Name),
		age,
		strings.Join(users, ", "),
		strings.Join(groups, ", "),
		strings.Join(sas, ", "),
	}}
}
