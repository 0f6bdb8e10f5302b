package apps

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestScale(t *testing.T) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1", ResourceVersion: "12"},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{
			MatchLabels:      map[string]string{"app": "web"},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"fe"}}},
		}},
		Status: appsv1.DeploymentStatus{Replicas: 1},
	}
	s := ScaleFromDeployment(d)
	if s.Name != "web" || s.Namespace != "default" || s.UID != "u1" || s.ResourceVersion != "12" || s.Spec.Replicas != 2 ||
		s.Status.Replicas != 1 || s.Status.Selector != "app=web,tier in (fe)" || s.Kind != "Scale" || s.APIVersion != "autoscaling/v1" {
		t.Errorf("scale = %+v", s)
	}
	s.Spec.Replicas = 5
	if err := ApplyScale(d, s); err != nil || *d.Spec.Replicas != 5 {
		t.Fatalf("%v %d", err, *d.Spec.Replicas)
	}
	s.Spec.Replicas = -1
	if err := ApplyScale(d, s); !apierrors.IsInvalid(err) {
		t.Errorf("negative: %v", err)
	}
	s.Spec.Replicas = 1
	s.ResourceVersion = "11"
	if err := ApplyScale(d, s); !apierrors.IsConflict(err) {
		t.Errorf("stale resourceVersion: %v", err)
	}
	if err := ApplyScale(&corev1.Pod{}, &autoscalingv1.Scale{}); !apierrors.IsBadRequest(err) {
		t.Errorf("pod: %v", err)
	}

	rs := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3)}}
	if sc := ScaleFromReplicaSet(rs); sc.Spec.Replicas != 3 || sc.Status.Selector != "" {
		t.Errorf("rs scale %+v", sc)
	}
	ss := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Replicas: ptr.To[int32](4), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}}}
	sc := ScaleFromStatefulSet(ss)
	sc.Spec.Replicas = 0
	if err := ApplyScale(ss, sc); err != nil || *ss.Spec.Replicas != 0 || sc.Status.Selector != "a=b" {
		t.Errorf("statefulset: %v %d %q", err, *ss.Spec.Replicas, sc.Status.Selector)
	}
}
