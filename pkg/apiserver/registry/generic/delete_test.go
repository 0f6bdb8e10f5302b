package generic

import (
	"net/http"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func grace(s int64) *metav1.DeleteOptions { return &metav1.DeleteOptions{GracePeriodSeconds: &s} }

func TestDeleteImmediate(t *testing.T) {
	s, _ := newStore(t)
	stored := mustCreate(t, s, newPod("default", "web", map[string]string{"k": "v"}))
	out, deleted, err := s.Delete(ctxT(t), "default", "web", nil, false)
	if err != nil || !deleted {
		t.Fatalf("delete: %v deleted %v", err, deleted)
	}
	if pod := out.(*corev1.Pod); pod.UID != stored.UID || pod.Labels["k"] != "v" {
		t.Errorf("deleted object %+v, want the stored one", pod.ObjectMeta)
	}
	if _, err := s.Get(ctxT(t), "default", "web", nil); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete: %v", err)
	}
	if _, _, err := s.Delete(ctxT(t), "default", "web", nil, false); !apierrors.IsNotFound(err) {
		t.Errorf("second delete: %v, want NotFound", err)
	}
}

func TestDeletePreconditionsAndDryRun(t *testing.T) {
	s, _ := newStore(t)
	stored := mustCreate(t, s, newPod("default", "web", nil))
	wrongUID := types.UID("other")
	staleRV := "1"
	for _, p := range []*metav1.Preconditions{{UID: &wrongUID}, {ResourceVersion: &staleRV}} {
		_, _, err := s.Delete(ctxT(t), "default", "web", &metav1.DeleteOptions{Preconditions: p}, false)
		if st := statusOf(t, err); st.Code != http.StatusConflict {
			t.Errorf("delete with precondition %+v: %d %s, want 409", p, st.Code, st.Message)
		}
	}
	out, deleted, err := s.Delete(ctxT(t), "default", "web", nil, true)
	if err != nil || !deleted || out.(*corev1.Pod).Name != "web" {
		t.Fatalf("dry-run delete: %v %v", err, deleted)
	}
	if got := mustGet(t, s, "default", "web"); got.ResourceVersion != stored.ResourceVersion {
		t.Errorf("dry-run delete changed the object")
	}
	p := &metav1.Preconditions{UID: &stored.UID, ResourceVersion: &stored.ResourceVersion}
	if _, deleted, err := s.Delete(ctxT(t), "default", "web", &metav1.DeleteOptions{Preconditions: p}, false); err != nil || !deleted {
		t.Errorf("delete with holding preconditions: %v %v", err, deleted)
	}
}

func TestGracefulDelete(t *testing.T) {
	s, clk := newStore(t)
	bound := newPod("default", "bound", nil)
	bound.Spec.NodeName = "n1"
	mustCreate(t, s, bound)

	out, deleted, err := s.Delete(ctxT(t), "default", "bound", grace(60), false)
	if err != nil || deleted {
		t.Fatalf("graceful delete: %v deleted %v, want the object kept", err, deleted)
	}
	marked := out.(*corev1.Pod)
	want := testNow.Add(60 * time.Second)
	if marked.DeletionTimestamp == nil || !marked.DeletionTimestamp.Time.Equal(want) ||
		marked.DeletionGracePeriodSeconds == nil || *marked.DeletionGracePeriodSeconds != 60 {
		t.Fatalf("marked %v grace %v, want %v and 60", marked.DeletionTimestamp, marked.DeletionGracePeriodSeconds, want)
	}
	if got := mustGet(t, s, "default", "bound"); got.DeletionTimestamp == nil {
		t.Error("the stored pod is not marked")
	}

	// A longer grace period does not extend it; a shorter one shortens it.
	clk.Step(10 * time.Second)
	out, _, err = s.Delete(ctxT(t), "default", "bound", grace(120), false)
	if err != nil || !out.(*corev1.Pod).DeletionTimestamp.Time.Equal(want) || *out.(*corev1.Pod).DeletionGracePeriodSeconds != 60 {
		t.Errorf("longer grace: %v %+v", err, out.(*corev1.Pod).ObjectMeta)
	}
	out, _, err = s.Delete(ctxT(t), "default", "bound", grace(5), false)
	shorter := testNow.Add(15 * time.Second)
	if err != nil || !out.(*corev1.Pod).DeletionTimestamp.Time.Equal(shorter) || *out.(*corev1.Pod).DeletionGracePeriodSeconds != 5 {
		t.Errorf("shorter grace: %v %+v, want deletion at %v", err, out.(*corev1.Pod).ObjectMeta, shorter)
	}
	// The strategy's default grace period applies when none is given.
	other := newPod("default", "default-grace", nil)
	other.Spec.NodeName = "n1"
	mustCreate(t, s, other)
	out, _, err = s.Delete(ctxT(t), "default", "default-grace", nil, false)
	if err != nil || *out.(*corev1.Pod).DeletionGracePeriodSeconds != 30 {
		t.Errorf("default grace: %v %+v, want 30s", err, out.(*corev1.Pod).ObjectMeta)
	}
	// Grace 0 (the kubelet's final delete) removes the pod.
	if _, deleted, err := s.Delete(ctxT(t), "default", "bound", grace(0), false); err != nil || !deleted {
		t.Fatalf("final delete: %v deleted %v", err, deleted)
	}
	if _, err := s.Get(ctxT(t), "default", "bound", nil); !apierrors.IsNotFound(err) {
		t.Errorf("get after the final delete: %v", err)
	}
	// A pod on no node goes at once, whatever the grace period asked.
	mustCreate(t, s, newPod("default", "unbound", nil))
	if _, deleted, err := s.Delete(ctxT(t), "default", "unbound", grace(30), false); err != nil || !deleted {
		t.Errorf("delete of an unbound pod: %v deleted %v, want immediate", err, deleted)
	}
}

func TestDeleteWithFinalizers(t *testing.T) {
	s, _ := newStore(t)
	pod := newPod("default", "fin", nil)
	pod.Finalizers = []string{"example.com/hold"}
	mustCreate(t, s, pod)
	out, deleted, err := s.Delete(ctxT(t), "default", "fin", nil, false)
	if err != nil || deleted || out.(*corev1.Pod).DeletionTimestamp == nil {
		t.Fatalf("delete with a finalizer: %v deleted %v, want marked and kept", err, deleted)
	}
	// Removing the last finalizer removes the object.
	out, _, err = s.Update(ctxT(t), "default", "fin", mutate(func(p *corev1.Pod) { p.Finalizers = nil }), UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctxT(t), "default", "fin", nil); !apierrors.IsNotFound(err) {
		t.Errorf("object still there after its last finalizer went: %v (update returned %+v)", err, out)
	}
}

func TestDeletePropagationPolicyFinalizers(t *testing.T) {
	s, _ := newStore(t)
	for policy, want := range map[metav1.DeletionPropagation]string{
		metav1.DeletePropagationOrphan: "orphan", metav1.DeletePropagationForeground: "foregroundDeletion",
	} {
		name := "p-" + string(want[0])
		mustCreate(t, s, newPod("default", name, nil))
		out, deleted, err := s.Delete(ctxT(t), "default", name, &metav1.DeleteOptions{PropagationPolicy: &policy}, false)
		if err != nil || deleted || !slices.Contains(out.(*corev1.Pod).Finalizers, want) {
			t.Errorf("delete with %s: %v deleted %v finalizers %v, want %s", policy, err, deleted, out.(*corev1.Pod).Finalizers, want)
		}
	}
	background := metav1.DeletePropagationBackground
	mustCreate(t, s, newPod("default", "bg", nil))
	if _, deleted, err := s.Delete(ctxT(t), "default", "bg", &metav1.DeleteOptions{PropagationPolicy: &background}, false); err != nil || !deleted {
		t.Errorf("background delete: %v deleted %v", err, deleted)
	}
}

func TestDeleteCollection(t *testing.T) {
	s, _ := newStore(t)
	for _, p := range []*corev1.Pod{
		newPod("default", "a", map[string]string{"app": "web"}), newPod("default", "b", map[string]string{"app": "web"}),
		newPod("default", "c", map[string]string{"app": "db"}), newPod("other", "d", map[string]string{"app": "web"}),
	} {
		mustCreate(t, s, p)
	}
	out, err := s.DeleteCollection(ctxT(t), "default", nil, &metav1.ListOptions{LabelSelector: "app=web"}, true)
	if err != nil || len(out.(*corev1.PodList).Items) != 2 {
		t.Fatalf("dry-run deletecollection: %v %v", err, out)
	}
	if list, _ := s.List(ctxT(t), "", nil); len(list.(*corev1.PodList).Items) != 4 {
		t.Fatalf("dry-run deletecollection deleted")
	}
	out, err = s.DeleteCollection(ctxT(t), "default", nil, &metav1.ListOptions{LabelSelector: "app=web"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(out.(*corev1.PodList).Items); !slices.Equal(got, []string{"default/a", "default/b"}) {
		t.Errorf("deleted %v, want default/a default/b", got)
	}
	list, err := s.List(ctxT(t), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(list.(*corev1.PodList).Items); !slices.Equal(got, []string{"default/c", "other/d"}) {
		t.Errorf("left %v, want default/c other/d", got)
	}
	if _, err := s.DeleteCollection(ctxT(t), "", nil, &metav1.ListOptions{FieldSelector: "spec.bogus=x"}, false); !apierrors.IsBadRequest(err) {
		t.Errorf("deletecollection with an unsupported field selector: %v, want BadRequest", err)
	}
}

func names(pods []corev1.Pod) []string {
	out := make([]string, 0, len(pods))
	for _, p := range pods {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

func TestDeletePropagationPolicySwitchesFinalizers(t *testing.T) {
	s, _ := newStore(t)
	policy := func(p metav1.DeletionPropagation) *metav1.DeleteOptions {
		return &metav1.DeleteOptions{PropagationPolicy: &p}
	}
	// An orphaning deletion in progress becomes a foreground one; the
	// object's own finalizers stay.
	pod := newPod("default", "switch", nil)
	pod.Finalizers = []string{"example.com/hold"}
	mustCreate(t, s, pod)
	if _, _, err := s.Delete(ctxT(t), "default", "switch", policy(metav1.DeletePropagationOrphan), false); err != nil {
		t.Fatal(err)
	}
	out, deleted, err := s.Delete(ctxT(t), "default", "switch", policy(metav1.DeletePropagationForeground), false)
	if got := out.(*corev1.Pod).Finalizers; err != nil || deleted || !slices.Equal(got, []string{"example.com/hold", "foregroundDeletion"}) {
		t.Errorf("foreground after orphan: %v deleted %v finalizers %v", err, deleted, got)
	}
	// Without a policy the recorded one stays.
	out, _, err = s.Delete(ctxT(t), "default", "switch", nil, false)
	if got := out.(*corev1.Pod).Finalizers; err != nil || !slices.Equal(got, []string{"example.com/hold", "foregroundDeletion"}) {
		t.Errorf("delete without a policy: %v finalizers %v", err, got)
	}

	// An object created with the orphan finalizer and deleted in the
	// background goes at once; deleted without a policy, it is orphaned.
	for _, tc := range []struct {
		name    string
		options *metav1.DeleteOptions
		deleted bool
	}{{"bg", policy(metav1.DeletePropagationBackground), true}, {"none", nil, false}} {
		pod := newPod("default", tc.name, nil)
		pod.Finalizers = []string{"orphan"}
		mustCreate(t, s, pod)
		_, deleted, err := s.Delete(ctxT(t), "default", tc.name, tc.options, false)
		if err != nil || deleted != tc.deleted {
			t.Errorf("delete %s of an object with the orphan finalizer: %v deleted %v, want %v", tc.name, err, deleted, tc.deleted)
		}
		_, err = s.Get(ctxT(t), "default", tc.name, nil)
		if gone := apierrors.IsNotFound(err); gone != tc.deleted {
			t.Errorf("after delete %s: get %v", tc.name, err)
		}
	}
	// A dry run says what would happen and changes nothing.
	pod = newPod("default", "dry", nil)
	pod.Finalizers = []string{"orphan"}
	stored := mustCreate(t, s, pod)
	if _, deleted, err := s.Delete(ctxT(t), "default", "dry", policy(metav1.DeletePropagationBackground), true); err != nil || !deleted {
		t.Errorf("dry-run background delete: %v deleted %v, want deleted", err, deleted)
	}
	if got := mustGet(t, s, "default", "dry"); got.ResourceVersion != stored.ResourceVersion {
		t.Error("dry-run delete changed the object")
	}
}

func TestDeletePolicyDuringGracePeriod(t *testing.T) {
	s, _ := newStore(t)
	pod := newPod("default", "bound", nil)
	pod.Spec.NodeName = "n1"
	mustCreate(t, s, pod)
	orphan := metav1.DeletePropagationOrphan
	thirty := int64(30)
	out, deleted, err := s.Delete(ctxT(t), "default", "bound", &metav1.DeleteOptions{GracePeriodSeconds: &thirty, PropagationPolicy: &orphan}, false)
	if err != nil || deleted || !slices.Equal(out.(*corev1.Pod).Finalizers, []string{"orphan"}) {
		t.Fatalf("graceful orphan delete: %v deleted %v %+v", err, deleted, out.(*corev1.Pod).ObjectMeta)
	}
	// Within the grace period, a policy no longer changes the finalizers.
	background := metav1.DeletePropagationBackground
	out, _, err = s.Delete(ctxT(t), "default", "bound", &metav1.DeleteOptions{PropagationPolicy: &background}, false)
	if err != nil || !slices.Equal(out.(*corev1.Pod).Finalizers, []string{"orphan"}) {
		t.Errorf("background delete within the grace period: %v finalizers %v", err, out.(*corev1.Pod).Finalizers)
	}
	// The kubelet's final delete keeps it until the finalizer goes.
	out, deleted, err = s.Delete(ctxT(t), "default", "bound", grace(0), false)
	if err != nil || deleted || *out.(*corev1.Pod).DeletionGracePeriodSeconds != 0 {
		t.Fatalf("final delete with a finalizer: %v deleted %v", err, deleted)
	}
	if _, _, err := s.Update(ctxT(t), "default", "bound", mutate(func(p *corev1.Pod) { p.Finalizers = nil }), UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctxT(t), "default", "bound", nil); !apierrors.IsNotFound(err) {
		t.Errorf("pod still there after its finalizer went: %v", err)
	}
}

// orphaningStrategy is podStrategy for a kind that orphans its dependents
// by default (as batch/v1 jobs).
type orphaningStrategy struct{ podStrategy }

func (orphaningStrategy) DefaultGarbageCollectionPolicy() GarbageCollectionPolicy {
	return OrphanDependents
}

func TestDeleteDefaultGarbageCollectionPolicy(t *testing.T) {
	s, _ := newStore(t)
	s.Strategy = orphaningStrategy{}
	mustCreate(t, s, newPod("default", "legacy", nil))
	out, deleted, err := s.Delete(ctxT(t), "default", "legacy", nil, false)
	if err != nil || deleted || !slices.Equal(out.(*corev1.Pod).Finalizers, []string{"orphan"}) {
		t.Fatalf("delete without a policy: %v deleted %v finalizers %v, want orphaned by default", err, deleted, out.(*corev1.Pod).Finalizers)
	}
	// An explicit policy wins over the default.
	background := metav1.DeletePropagationBackground
	if _, deleted, err := s.Delete(ctxT(t), "default", "legacy", &metav1.DeleteOptions{PropagationPolicy: &background}, false); err != nil || !deleted {
		t.Errorf("background delete of an orphaning object: %v deleted %v, want it removed", err, deleted)
	}
	mustCreate(t, s, newPod("default", "explicit", nil))
	if _, deleted, err := s.Delete(ctxT(t), "default", "explicit", &metav1.DeleteOptions{PropagationPolicy: &background}, false); err != nil || !deleted {
		t.Errorf("background delete: %v deleted %v, want removed at once", err, deleted)
	}
	// A foregroundDeletion finalizer of the object's own wins too.
	pod := newPod("default", "fg", nil)
	pod.Finalizers = []string{"foregroundDeletion"}
	mustCreate(t, s, pod)
	if out, _, err := s.Delete(ctxT(t), "default", "fg", nil, false); err != nil || !slices.Equal(out.(*corev1.Pod).Finalizers, []string{"foregroundDeletion"}) {
		t.Errorf("delete of an object with foregroundDeletion: %v %v", err, out.(*corev1.Pod).Finalizers)
	}
}
