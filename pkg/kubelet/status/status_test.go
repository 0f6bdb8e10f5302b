package status

import (
	"context"
	"io"
	"log/slog"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestSyncOnlyWhenChanged(t *testing.T) {
	t.Parallel()
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u1"},
		Status: v1.PodStatus{Conditions: []v1.PodCondition{{Type: "DisruptionTarget", Status: v1.ConditionTrue}}}}
	client := fake.NewClientset(pod)
	m := NewManager(client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	st := v1.PodStatus{Phase: v1.PodRunning, PodIP: "10.0.0.1", Conditions: []v1.PodCondition{{Type: v1.PodReady, Status: v1.ConditionTrue}}}
	m.SetPodStatus(pod, st)
	if err := m.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := client.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{})
	if got.Status.Phase != v1.PodRunning || len(got.Status.Conditions) != 2 {
		t.Fatalf("status = %+v", got.Status)
	}
	updates := func() int {
		n := 0
		for _, a := range client.Actions() {
			if a.GetVerb() == "update" && a.GetSubresource() == "status" {
				n++
			}
		}
		return n
	}
	m.SetPodStatus(pod, *st.DeepCopy())
	_ = m.Sync(ctx)
	if n := updates(); n != 1 {
		t.Errorf("unchanged status sent again: %d updates", n)
	}
	st.Phase = v1.PodSucceeded
	m.SetPodStatus(pod, st)
	_ = m.Sync(ctx)
	if n := updates(); n != 2 {
		t.Errorf("changed status: %d updates, want 2", n)
	}
	if err := m.DeletePod(ctx, pod); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Pods("default").Get(ctx, "p", metav1.GetOptions{}); err == nil {
		t.Error("pod not deleted")
	}
}
