package podstatus

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestSetCondition: a new condition is appended at now; the same status
// keeps its transition time; a changed one moves it; nothing changed is
// reported as such.
func TestSetCondition(t *testing.T) {
	t0, t1 := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	st := &corev1.PodStatus{}
	cond := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "R"}
	if !SetCondition(st, cond, t0) || len(st.Conditions) != 1 || !st.Conditions[0].LastTransitionTime.Equal(&t0) {
		t.Fatalf("new: %+v", st.Conditions)
	}
	if SetCondition(st, cond, t1) || !st.Conditions[0].LastTransitionTime.Equal(&t0) {
		t.Fatalf("same: %+v", st.Conditions)
	}
	cond.Reason = "Other"
	if !SetCondition(st, cond, t1) || !st.Conditions[0].LastTransitionTime.Equal(&t0) || st.Conditions[0].Reason != "Other" {
		t.Fatalf("new reason: %+v", st.Conditions)
	}
	cond.Status = corev1.ConditionFalse
	if !SetCondition(st, cond, t1) || !st.Conditions[0].LastTransitionTime.Equal(&t1) || len(st.Conditions) != 1 {
		t.Fatalf("new status: %+v", st.Conditions)
	}
}

// TestPatch: the patch carries the uid and the change; an unchanged
// status sends nothing.
func TestPatch(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	client := fake.NewClientset(pod)
	pods := client.CoreV1().Pods("ns")
	if err := Patch(context.Background(), pods, pod, pod.Status); err != nil || len(client.Actions()) != 0 {
		t.Fatalf("unchanged: %v, actions %v", err, client.Actions())
	}
	st := pod.Status
	st.Phase = corev1.PodFailed
	if err := Patch(context.Background(), pods, pod, st); err != nil {
		t.Fatal(err)
	}
	if len(client.Actions()) != 1 || client.Actions()[0].GetSubresource() != "status" {
		t.Fatalf("actions %v", client.Actions())
	}
	got, _ := pods.Get(context.Background(), "p", metav1.GetOptions{})
	if got.Status.Phase != corev1.PodFailed {
		t.Errorf("phase %s", got.Status.Phase)
	}
	patch := string(client.Actions()[0].(interface{ GetPatch() []byte }).GetPatch())
	if !strings.Contains(patch, `"uid":"u1"`) || !strings.Contains(patch, `"phase":"Failed"`) {
		t.Errorf("patch %s", patch)
	}
}
