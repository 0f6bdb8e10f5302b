package pod

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func binding(node string) *corev1.Binding {
	return &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx", Namespace: "default", UID: "uid-1", Annotations: map[string]string{"scheduler/x": "y"}},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
}

func TestApplyBinding(t *testing.T) {
	pod := stored()
	if err := ApplyBinding(pod, binding("node1")); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.NodeName != "node1" || pod.Annotations["scheduler/x"] != "y" {
		t.Errorf("nodeName %q annotations %v", pod.Spec.NodeName, pod.Annotations)
	}
	if len(pod.Status.Conditions) != 1 || pod.Status.Conditions[0].Type != corev1.PodScheduled ||
		pod.Status.Conditions[0].Status != corev1.ConditionTrue || pod.Status.Conditions[0].LastTransitionTime.IsZero() {
		t.Errorf("conditions = %+v", pod.Status.Conditions)
	}

	err := ApplyBinding(pod, binding("node2"))
	if !apierrors.IsConflict(err) {
		t.Fatalf("rebinding: %v", err)
	}
	if want := `Operation cannot be fulfilled on pods/binding "nginx": pod nginx is already assigned to node "node1"`; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	if pod.Spec.NodeName != "node1" {
		t.Errorf("failed binding changed nodeName to %q", pod.Spec.NodeName)
	}
}

func TestApplyBindingErrors(t *testing.T) {
	tests := []struct {
		name    string
		pod     func(*corev1.Pod)
		binding func(*corev1.Binding)
		check   func(error) bool
	}{
		{"no target name", nil, func(b *corev1.Binding) { b.Target.Name = "" }, apierrors.IsInvalid},
		{"target not a node", nil, func(b *corev1.Binding) { b.Target.Kind = "Pod" }, apierrors.IsInvalid},
		{"uid mismatch", nil, func(b *corev1.Binding) { b.UID = "other" }, apierrors.IsConflict},
		{"being deleted", func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }, nil, apierrors.IsConflict},
		{"scheduling gates", func(p *corev1.Pod) { p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "g"}} }, nil, apierrors.IsConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod, b := stored(), binding("node1")
			if tc.pod != nil {
				tc.pod(pod)
			}
			if tc.binding != nil {
				tc.binding(b)
			}
			if err := ApplyBinding(pod, b); !tc.check(err) {
				t.Errorf("err = %v", err)
			}
			if pod.Spec.NodeName != "" {
				t.Errorf("pod bound despite error")
			}
		})
	}
}
