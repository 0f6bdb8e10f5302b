package generic

import (
	"context"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestUpdateResourceVersionConflicts(t *testing.T) {
	s, _ := newStore(t)
	stored := mustCreate(t, s, newPod("default", "web", nil))

	// A client's update based on what it read.
	v1 := stored.DeepCopy()
	v1.Labels = map[string]string{"v": "1"}
	out, created, err := s.Update(ctxT(t), "default", "web", replace(v1), UpdateOptions{})
	if err != nil || created {
		t.Fatalf("update: %v (created %v)", err, created)
	}
	updated := out.(*corev1.Pod)
	if updated.ResourceVersion == stored.ResourceVersion || updated.Labels["v"] != "1" {
		t.Fatalf("update result %+v", updated.ObjectMeta)
	}

	// Another client still holding the first version loses with 409.
	stale := stored.DeepCopy()
	stale.Labels = map[string]string{"v": "stale"}
	_, _, err = s.Update(ctxT(t), "default", "web", replace(stale), UpdateOptions{})
	if st := statusOf(t, err); st.Code != http.StatusConflict || st.Reason != metav1.StatusReasonConflict {
		t.Fatalf("stale update: %d %s, want 409 Conflict", st.Code, st.Reason)
	}
	if got := mustGet(t, s, "default", "web"); got.Labels["v"] != "1" {
		t.Errorf("stale update wrote labels %v", got.Labels)
	}

	// Without a resourceVersion the update is unconditional.
	blind := stored.DeepCopy()
	blind.ResourceVersion = ""
	blind.Labels = map[string]string{"v": "blind"}
	if _, _, err := s.Update(ctxT(t), "default", "web", replace(blind), UpdateOptions{}); err != nil {
		t.Fatalf("unconditional update: %v", err)
	}
	if got := mustGet(t, s, "default", "web"); got.Labels["v"] != "blind" {
		t.Errorf("labels %v after an unconditional update", got.Labels)
	}
}

func TestUpdateKeepsSystemMetadataAndStatus(t *testing.T) {
	s, clk := newStore(t)
	stored := mustCreate(t, s, newPod("default", "web", nil))
	clk.Step(time.Hour)
	out, _, err := s.Update(ctxT(t), "default", "web", mutate(func(p *corev1.Pod) {
		p.UID = "forged"
		p.CreationTimestamp = metav1.NewTime(testNow.Add(-time.Hour))
		p.Status.Phase = corev1.PodSucceeded
		p.Annotations = map[string]string{"a": "b"}
	}), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*corev1.Pod)
	if got.UID != stored.UID || !got.CreationTimestamp.Equal(&stored.CreationTimestamp) {
		t.Errorf("uid %s created %v, want the stored %s %v", got.UID, got.CreationTimestamp, stored.UID, stored.CreationTimestamp)
	}
	if got.Status.Phase != corev1.PodPending || got.Annotations["a"] != "b" {
		t.Errorf("phase %s annotations %v: the main resource must keep status and take the rest", got.Status.Phase, got.Annotations)
	}
}

func TestUpdateErrors(t *testing.T) {
	s, _ := newStore(t)
	mustCreate(t, s, newPod("default", "web", nil))
	boom := apierrors.NewForbidden(podsGR, "web", nil)
	tests := []struct {
		name     string
		pod      string
		update   UpdateFunc
		wantCode int32
	}{
		{name: "missing", pod: "missing", update: replace(newPod("default", "missing", nil)), wantCode: http.StatusNotFound},
		{name: "name differs from the URL's", pod: "web", update: replace(newPod("default", "other", nil)), wantCode: http.StatusBadRequest},
		{name: "namespace differs from the URL's", pod: "web", update: replace(newPod("other", "web", nil)), wantCode: http.StatusBadRequest},
		{name: "invalid", pod: "web", update: mutate(func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" }), wantCode: http.StatusUnprocessableEntity},
		{name: "immutable field", pod: "web", update: mutate(func(p *corev1.Pod) { p.Spec.NodeName = "n1" }), wantCode: 0},
		{name: "update func error returned as it is", pod: "web",
			update: func(context.Context, runtime.Object) (runtime.Object, error) { return nil, boom }, wantCode: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Update(ctxT(t), "default", tt.pod, tt.update, UpdateOptions{})
			if tt.wantCode == 0 {
				if err != nil {
					t.Fatalf("update: %v", err)
				}
				return
			}
			if st := statusOf(t, err); st.Code != tt.wantCode {
				t.Errorf("status %d %s (%s), want %d", st.Code, st.Reason, st.Message, tt.wantCode)
			}
		})
	}
	// nodeName is now set: changing it is refused by ValidateUpdate.
	_, _, err := s.Update(ctxT(t), "default", "web", mutate(func(p *corev1.Pod) { p.Spec.NodeName = "n2" }), UpdateOptions{})
	if st := statusOf(t, err); st.Code != http.StatusUnprocessableEntity || st.Details.Causes[0].Field != "spec.nodeName" {
		t.Errorf("changing an immutable field: %+v, want 422 on spec.nodeName", st)
	}
}

func TestUpdateCreates(t *testing.T) {
	s, _ := newStore(t)
	if _, _, err := s.Update(ctxT(t), "default", "new", replace(newPod("default", "new", nil)), UpdateOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("update of a missing object: %v, want NotFound", err)
	}
	s.AllowCreateOnUpdate = true
	var sawOld runtime.Object = &corev1.Pod{}
	out, created, err := s.Update(ctxT(t), "default", "new", func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		sawOld = old
		return newPod("default", "new", nil), nil
	}, UpdateOptions{})
	if err != nil || !created || sawOld != nil {
		t.Fatalf("create on update: %v created %v old %v", err, created, sawOld)
	}
	if pod := out.(*corev1.Pod); pod.UID == "" || pod.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("created object %+v lacks the create path's metadata and defaults", pod.ObjectMeta)
	}
	// Create on update validates as create does.
	_, _, err = s.Update(ctxT(t), "default", "bad", replace(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bad"}}), UpdateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("create on update of an invalid pod: %v, want Invalid", err)
	}
}

func TestUpdateDryRun(t *testing.T) {
	s, _ := newStore(t)
	stored := mustCreate(t, s, newPod("default", "web", nil))
	out, _, err := s.Update(ctxT(t), "default", "web", mutate(func(p *corev1.Pod) { p.Labels = map[string]string{"dry": "yes"} }),
		UpdateOptions{DryRun: true})
	if err != nil || out.(*corev1.Pod).Labels["dry"] != "yes" {
		t.Fatalf("dry-run update: %v %v", err, out)
	}
	if got := mustGet(t, s, "default", "web"); got.ResourceVersion != stored.ResourceVersion || got.Labels != nil {
		t.Errorf("dry-run update wrote: %+v", got.ObjectMeta)
	}
	_, _, err = s.Update(ctxT(t), "default", "web", mutate(func(p *corev1.Pod) { p.Spec.Containers = nil }), UpdateOptions{DryRun: true})
	if !apierrors.IsInvalid(err) {
		t.Errorf("dry-run of an invalid update: %v, want Invalid", err)
	}
}

func TestStatusSubresource(t *testing.T) {
	s, _ := newStore(t)
	mustCreate(t, s, newPod("default", "web", nil))
	out, _, err := s.Update(ctxT(t), "default", "web", mutate(func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Spec.Containers[0].Image = "nginx" // ignored: /status keeps the spec
	}), UpdateOptions{Status: true})
	if err != nil {
		t.Fatal(err)
	}
	if pod := out.(*corev1.Pod); pod.Status.Phase != corev1.PodRunning || pod.Spec.Containers[0].Image != "busybox" {
		t.Errorf("after /status: phase %s image %s, want Running busybox", pod.Status.Phase, pod.Spec.Containers[0].Image)
	}
	// The main resource keeps the status /status wrote.
	out, _, err = s.Update(ctxT(t), "default", "web", mutate(func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodFailed
		p.Spec.Containers[0].Image = "nginx"
	}), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod := out.(*corev1.Pod); pod.Status.Phase != corev1.PodRunning || pod.Spec.Containers[0].Image != "nginx" {
		t.Errorf("after an update: phase %s image %s, want Running nginx", pod.Status.Phase, pod.Spec.Containers[0].Image)
	}
	// /status validates with its own strategy.
	_, _, err = s.Update(ctxT(t), "default", "web", mutate(func(p *corev1.Pod) { p.Status.Phase = "Sleeping" }), UpdateOptions{Status: true})
	if st := statusOf(t, err); st.Code != http.StatusUnprocessableEntity || st.Details.Causes[0].Field != "status.phase" {
		t.Errorf("invalid status: %+v, want 422 on status.phase", st)
	}
	// /status never creates, and a kind without it has none.
	s.AllowCreateOnUpdate = true
	if _, _, err := s.Update(ctxT(t), "default", "missing", replace(newPod("default", "missing", nil)), UpdateOptions{Status: true}); !apierrors.IsNotFound(err) {
		t.Errorf("/status of a missing object: %v, want NotFound", err)
	}
	s.StatusStrategy = nil
	if _, _, err := s.Update(ctxT(t), "default", "web", mutate(func(*corev1.Pod) {}), UpdateOptions{Status: true}); !apierrors.IsNotFound(err) {
		t.Errorf("/status of a kind without it: %v, want NotFound", err)
	}
}
