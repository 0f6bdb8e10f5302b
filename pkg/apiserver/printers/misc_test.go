package printers

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func TestPrintEvents(t *testing.T) {
	pod := corev1.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{app}"}
	tests := []struct {
		name string
		obj  runtime.Object
		want []interface{}
	}{
		{"legacy event", &corev1.Event{ObjectMeta: objMeta("web-1.17f", time.Hour), InvolvedObject: pod,
			Reason: "BackOff", Message: " Back-off restarting failed container\n", Type: corev1.EventTypeWarning,
			Source: corev1.EventSource{Component: "kubelet", Host: "kinc-worker"}, Count: 12,
			FirstTimestamp: ago(30 * time.Minute), LastTimestamp: ago(15 * time.Second)},
			[]interface{}{"15s", "Warning", "BackOff", "pod/web-1", "spec.containers{app}", "kubelet, kinc-worker",
				"Back-off restarting failed container", "30m", int64(12), "web-1.17f"}},
		{"new-style singleton event", &corev1.Event{ObjectMeta: objMeta("e", time.Hour), InvolvedObject: corev1.ObjectReference{Kind: "Node"},
			Reason: "RegisteredNode", Type: corev1.EventTypeNormal, EventTime: microAgo(4 * time.Minute),
			ReportingController: "node-controller", ReportingInstance: ""},
			[]interface{}{"4m", "Normal", "RegisteredNode", "node", "", "node-controller", "", "4m", int64(1), "e"}},
		{"event series", &corev1.Event{ObjectMeta: objMeta("s", time.Hour), InvolvedObject: pod, Type: corev1.EventTypeNormal,
			EventTime: microAgo(10 * time.Minute), ReportingController: "kubelet", ReportingInstance: "kinc-worker",
			Series: &corev1.EventSeries{Count: 4, LastObservedTime: microAgo(20 * time.Second)}},
			[]interface{}{"20s", "Normal", "", "pod/web-1", "spec.containers{app}", "kubelet, kinc-worker", "", "10m", int64(4), "s"}},
		{"no timestamps", &corev1.Event{ObjectMeta: objMeta("z", time.Hour)},
			[]interface{}{"<unknown>", "", "", "", "", "", "", "<unknown>", int64(1), "z"}},
		{"events.k8s.io event", &eventsv1.Event{ObjectMeta: objMeta("web-1.18a", time.Hour), Regarding: pod,
			Reason: "Pulled", Note: "Container image already present", Type: corev1.EventTypeNormal,
			EventTime: microAgo(2 * time.Minute), ReportingController: "kubelet", ReportingInstance: "kinc-worker",
			Series: &eventsv1.EventSeries{Count: 3, LastObservedTime: microAgo(5 * time.Second)}},
			[]interface{}{"5s", "Normal", "Pulled", "pod/web-1", "spec.containers{app}", "kubelet, kinc-worker",
				"Container image already present", "2m", int64(3), "web-1.18a"}},
		{"events.k8s.io event with deprecated fields", &eventsv1.Event{ObjectMeta: objMeta("old", time.Hour), Regarding: pod,
			DeprecatedSource: corev1.EventSource{Component: "kubelet"}, DeprecatedCount: 2,
			DeprecatedFirstTimestamp: ago(time.Hour), DeprecatedLastTimestamp: ago(time.Minute)},
			[]interface{}{"60s", "", "", "pod/web-1", "spec.containers{app}", "kubelet", "", "60m", int64(2), "old"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, tc.obj, tc.want) })
	}
}

func TestPrintRBACAndLeases(t *testing.T) {
	subjects := []rbacv1.Subject{
		{Kind: rbacv1.UserKind, Name: "alice"}, {Kind: rbacv1.UserKind, Name: "bob"},
		{Kind: rbacv1.GroupKind, Name: "system:masters"},
		{Kind: rbacv1.ServiceAccountKind, Namespace: "kube-system", Name: "kube-proxy"},
		{Kind: "Other", Name: "ignored"},
	}
	tests := []struct {
		name string
		obj  runtime.Object
		want []interface{}
	}{
		{"rolebinding", &rbacv1.RoleBinding{ObjectMeta: objMeta("rb", time.Hour),
			RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "reader"}, Subjects: subjects},
			[]interface{}{"rb", "Role/reader", "60m", "alice, bob", "system:masters", "kube-system/kube-proxy"}},
		{"clusterrolebinding without subjects", &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crb", CreationTimestamp: ago(time.Hour)},
			RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}},
			[]interface{}{"crb", "ClusterRole/cluster-admin", "60m", "", "", ""}},
		{"role uses the default table", &rbacv1.Role{ObjectMeta: objMeta("reader", time.Hour)},
			[]interface{}{"reader", "2026-10-07T08:17:26Z"}},
		{"clusterrole uses the default table", &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "admin",
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600)))}},
			[]interface{}{"admin", "2026-01-02T02:04:05Z"}},
		{"lease", &coordinationv1.Lease{ObjectMeta: objMeta("kinc-worker", 26*time.Hour),
			Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("kinc-worker")}},
			[]interface{}{"kinc-worker", "kinc-worker", "26h"}},
		{"lease without holder", &coordinationv1.Lease{ObjectMeta: objMeta("free", 10*time.Second)},
			[]interface{}{"free", "", "10s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, tc.obj, tc.want) })
	}
}
