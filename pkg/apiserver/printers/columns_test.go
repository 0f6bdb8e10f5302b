package printers

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestColumnDefinitions pins every table's columns to upstream's printers.go:
// "Name:type" for priority 0 and "Name:type:wide" for priority 1; a column with
// format "name" is marked with a leading "*".
func TestColumnDefinitions(t *testing.T) {
	tests := []struct {
		obj  runtime.Object
		want string
	}{
		{&corev1.Pod{}, "*Name:string Ready:string Status:string Restarts:string Age:string IP:string:wide Node:string:wide Nominated Node:string:wide Readiness Gates:string:wide"},
		{&corev1.Node{}, "*Name:string Status:string Roles:string Age:string Version:string Internal-IP:string:wide External-IP:string:wide OS-Image:string:wide Kernel-Version:string:wide Container-Runtime:string:wide"},
		{&corev1.Namespace{}, "*Name:string Status:string Age:string"},
		{&corev1.Service{}, "*Name:string Type:string Cluster-IP:string External-IP:string Port(s):string Age:string Selector:string:wide"},
		{&corev1.Endpoints{}, "*Name:string Endpoints:string Age:string"},
		{&corev1.ConfigMap{}, "*Name:string Data:string Age:string"},
		{&corev1.Secret{}, "*Name:string Type:string Data:string Age:string"},
		{&corev1.ServiceAccount{}, "*Name:string Secrets:string Age:string"},
		{&corev1.Event{}, "Last Seen:string Type:string Reason:string Object:string Subobject:string:wide Source:string:wide Message:string First Seen:string:wide Count:string:wide *Name:string:wide"},
		{&eventsv1.Event{}, "Last Seen:string Type:string Reason:string Object:string Subobject:string:wide Source:string:wide Message:string First Seen:string:wide Count:string:wide *Name:string:wide"},
		{&appsv1.Deployment{}, "*Name:string Ready:string Up-to-date:string Available:string Age:string Containers:string:wide Images:string:wide Selector:string:wide"},
		{&appsv1.ReplicaSet{}, "*Name:string Desired:integer Current:integer Ready:integer Age:string Containers:string:wide Images:string:wide Selector:string:wide"},
		{&appsv1.DaemonSet{}, "*Name:string Desired:integer Current:integer Ready:integer Up-to-date:integer Available:integer Node Selector:string Age:string Containers:string:wide Images:string:wide Selector:string:wide"},
		{&appsv1.StatefulSet{}, "*Name:string Ready:string Age:string Containers:string:wide Images:string:wide"},
		{&appsv1.ControllerRevision{}, "*Name:string Controller:string Revision:string Age:string"},
		{&batchv1.Job{}, "*Name:string Status:string Completions:string Duration:string Age:string Containers:string:wide Images:string:wide Selector:string:wide"},
		{&batchv1.CronJob{}, "*Name:string Schedule:string Timezone:string Suspend:boolean Active:integer Last Schedule:string Age:string Containers:string:wide Images:string:wide Selector:string:wide"},
		{&discoveryv1.EndpointSlice{}, "*Name:string AddressType:string Ports:string Endpoints:string Age:string"},
		{&certificatesv1.CertificateSigningRequest{}, "*Name:string Age:string SignerName:string Requestor:string RequestedDuration:string Condition:string"},
		{&policyv1.PodDisruptionBudget{}, "*Name:string Min Available:string Max Unavailable:string Allowed Disruptions:integer Age:string"},
		{&coordinationv1.Lease{}, "*Name:string Holder:string Age:string"},
		{&rbacv1.RoleBinding{}, "*Name:string Role:string Age:string Users:string:wide Groups:string:wide ServiceAccounts:string:wide"},
		{&rbacv1.ClusterRoleBinding{}, "*Name:string Role:string Age:string Users:string:wide Groups:string:wide ServiceAccounts:string:wide"},
		{&rbacv1.Role{}, "*Name:string Created At:date"},
		{&rbacv1.ClusterRole{}, "*Name:string Created At:date"},
	}
	for _, tc := range tests {
		name := fmt.Sprintf("%T", tc.obj)
		t.Run(name, func(t *testing.T) {
			table := convert(t, tc.obj)
			var got []string
			for _, c := range table.ColumnDefinitions {
				s := c.Name + ":" + c.Type
				if c.Format == "name" {
					s = "*" + s
				}
				switch c.Priority {
				case 0:
				case 1:
					s += ":wide"
				default:
					t.Errorf("column %q has priority %d", c.Name, c.Priority)
				}
				if c.Description == "" {
					t.Errorf("column %q has no description", c.Name)
				}
				got = append(got, s)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("columns\n got: %s\nwant: %s", g, tc.want)
			}
		})
	}
}

// TestListTypesShareColumns checks that each list type prints with its item's
// columns even when empty, which is what `kubectl get` shows for "No resources".
func TestListTypesShareColumns(t *testing.T) {
	pairs := []struct{ item, list runtime.Object }{
		{&corev1.Pod{}, &corev1.PodList{}}, {&corev1.Node{}, &corev1.NodeList{}},
		{&corev1.Namespace{}, &corev1.NamespaceList{}}, {&corev1.Service{}, &corev1.ServiceList{}},
		{&corev1.Endpoints{}, &corev1.EndpointsList{}}, {&corev1.ConfigMap{}, &corev1.ConfigMapList{}},
		{&corev1.Secret{}, &corev1.SecretList{}}, {&corev1.ServiceAccount{}, &corev1.ServiceAccountList{}},
		{&corev1.Event{}, &corev1.EventList{}}, {&eventsv1.Event{}, &eventsv1.EventList{}},
		{&appsv1.Deployment{}, &appsv1.DeploymentList{}}, {&appsv1.ReplicaSet{}, &appsv1.ReplicaSetList{}},
		{&appsv1.DaemonSet{}, &appsv1.DaemonSetList{}}, {&appsv1.StatefulSet{}, &appsv1.StatefulSetList{}},
		{&appsv1.ControllerRevision{}, &appsv1.ControllerRevisionList{}},
		{&batchv1.Job{}, &batchv1.JobList{}}, {&batchv1.CronJob{}, &batchv1.CronJobList{}},
		{&discoveryv1.EndpointSlice{}, &discoveryv1.EndpointSliceList{}},
		{&certificatesv1.CertificateSigningRequest{}, &certificatesv1.CertificateSigningRequestList{}},
		{&policyv1.PodDisruptionBudget{}, &policyv1.PodDisruptionBudgetList{}},
		{&coordinationv1.Lease{}, &coordinationv1.LeaseList{}},
		{&rbacv1.RoleBinding{}, &rbacv1.RoleBindingList{}}, {&rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRoleBindingList{}},
		{&rbacv1.Role{}, &rbacv1.RoleList{}},
	}
	c := newTestConvertor()
	for _, p := range pairs {
		item, list := convert(t, p.item), convert(t, p.list)
		if fmt.Sprint(item.ColumnDefinitions) != fmt.Sprint(list.ColumnDefinitions) {
			t.Errorf("%T and %T have different columns", p.item, p.list)
		}
		if list.Rows == nil || len(list.Rows) != 0 {
			t.Errorf("%T: rows = %#v, want an empty non-nil slice", p.list, list.Rows)
		}
		if _, isRole := p.item.(*rbacv1.Role); c.Handles(p.item) == isRole || c.Handles(p.list) == isRole {
			t.Errorf("Handles(%T)/Handles(%T) wrong", p.item, p.list)
		}
	}
}
