package scheduler

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func TestDefaultSelector(t *testing.T) {
	svc := &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "web"}}}
	other := &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"}, Spec: v1.ServiceSpec{Selector: map[string]string{"app": "db"}}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-1"},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "hash": "1"}}}}
	f := newFixture(t, svc, other, rs)
	owned := st.MakePod("ns", "p").Label("app", "web").Label("hash", "1").Obj()
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", Controller: ptr.To(true)}}
	sel := f.sched.defaultSel.forPod(owned)
	if !sel.Matches(labels.Set{"app": "web", "hash": "1"}) || sel.Matches(labels.Set{"app": "web", "hash": "2"}) {
		t.Errorf("selector %v: want app=web from the service and hash=1 from the ReplicaSet", sel)
	}
	if sel := f.sched.defaultSel.forPod(st.MakePod("ns", "lonely").Label("app", "cache").Obj()); !sel.Empty() {
		t.Errorf("selector %v for a pod nothing selects, want empty", sel)
	}
}
