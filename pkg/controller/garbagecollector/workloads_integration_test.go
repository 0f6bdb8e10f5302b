package garbagecollector_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kinc-dev/kinc/pkg/controller/garbagecollector"
)

// TestIntegrationWorkloads: a ReplicaSet deleted in the foreground goes
// after its pods; a batch/v1 Job deleted without a policy orphans its pod
// (upstream's default for jobs); a ReplicaSet deleted in the background
// takes its pods along.
func TestIntegrationWorkloads(t *testing.T) {
	e := startEnv(t)
	e.run(garbagecollector.DefaultConcurrentSyncs)
	labels := map[string]string{"app": "web"}
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}
	newRS := func(name string) *appsv1.ReplicaSet {
		t.Helper()
		rs, err := e.client.AppsV1().ReplicaSets(ns).Create(e.ctx, &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	newPod := func(name string, owner metav1.OwnerReference) {
		t.Helper()
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, OwnerReferences: []metav1.OwnerReference{owner}}, Spec: spec}
		if _, err := e.client.CoreV1().Pods(ns).Create(e.ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ref := func(o metav1.Object, apiVersion, kind string) metav1.OwnerReference {
		yes := true
		return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: o.GetName(), UID: o.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}
	}
	podGone := func(name string) bool {
		_, err := e.client.CoreV1().Pods(ns).Get(e.ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}
	rsGone := func(name string) bool {
		_, err := e.client.AppsV1().ReplicaSets(ns).Get(e.ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}
	poll := func(what string, cond func() bool) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(e.ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			return cond(), nil
		}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Foreground: the pods go first (one held by a finalizer keeps the
	// ReplicaSet), then the ReplicaSet.
	rs := newRS("fg")
	for i := range 3 {
		newPod(fmt.Sprintf("fg-%d", i), ref(rs, "apps/v1", "ReplicaSet"))
	}
	if _, err := e.client.CoreV1().Pods(ns).Patch(e.ctx, "fg-0", "application/merge-patch+json",
		[]byte(`{"metadata":{"finalizers":["example.com/hold"]}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	foreground := metav1.DeletePropagationForeground
	if err := e.client.AppsV1().ReplicaSets(ns).Delete(e.ctx, "fg", metav1.DeleteOptions{PropagationPolicy: &foreground}); err != nil {
		t.Fatal(err)
	}
	poll("pods fg-1 and fg-2 gone", func() bool { return podGone("fg-1") && podGone("fg-2") })
	time.Sleep(time.Second)
	if rsGone("fg") {
		t.Fatal("the ReplicaSet went while a blocking pod remained")
	}
	if _, err := e.client.CoreV1().Pods(ns).Patch(e.ctx, "fg-0", "application/merge-patch+json",
		[]byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	poll("pod fg-0 and the ReplicaSet gone", func() bool { return podGone("fg-0") && rsGone("fg") })

	// Background.
	rs = newRS("bg")
	newPod("bg-0", ref(rs, "apps/v1", "ReplicaSet"))
	background := metav1.DeletePropagationBackground
	if err := e.client.AppsV1().ReplicaSets(ns).Delete(e.ctx, "bg", metav1.DeleteOptions{PropagationPolicy: &background}); err != nil {
		t.Fatal(err)
	}
	poll("pod bg-0 gone", func() bool { return podGone("bg-0") })

	// A job deleted without a policy orphans its pod.
	job, err := e.client.BatchV1().Jobs(ns).Create(e.ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "pi"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
			Containers: spec.Containers}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	newPod("pi-0", ref(job, "batch/v1", "Job"))
	if err := e.client.BatchV1().Jobs(ns).Delete(e.ctx, "pi", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	poll("job gone", func() bool {
		_, err := e.client.BatchV1().Jobs(ns).Get(e.ctx, "pi", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	pod, err := e.client.CoreV1().Pods(ns).Get(e.ctx, "pi-0", metav1.GetOptions{})
	if err != nil || len(pod.OwnerReferences) != 0 || pod.DeletionTimestamp != nil {
		t.Errorf("the job's pod: %v %+v, want kept without its owner reference", err, pod)
	}
}
