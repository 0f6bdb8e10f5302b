// Package podstatus holds what several controllers do to a pod's status
// before deleting it, as upstream's pod utilities: set a condition as
// UpdatePodCondition does, and write the status with a uid-guarded
// strategic merge patch as PatchPodStatus does.
package podstatus

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
)

// SetCondition puts cond into status (replacing the condition of its type)
// as upstream's UpdatePodCondition: its lastTransitionTime is now when its
// status changes or it is new, the old one's otherwise. It reports whether
// anything changed.
func SetCondition(status *corev1.PodStatus, cond corev1.PodCondition, now metav1.Time) bool {
	cond.LastTransitionTime = now
	for i := range status.Conditions {
		old := &status.Conditions[i]
		if old.Type != cond.Type {
			continue
		}
		if old.Status == cond.Status {
			cond.LastTransitionTime = old.LastTransitionTime
		}
		same := old.Status == cond.Status && old.Reason == cond.Reason && old.Message == cond.Message &&
			old.LastProbeTime.Equal(&cond.LastProbeTime) && old.LastTransitionTime.Equal(&cond.LastTransitionTime) &&
			old.ObservedGeneration == cond.ObservedGeneration
		*old = cond
		return !same
	}
	status.Conditions = append(status.Conditions, cond)
	return true
}

// Patch writes status as pod's through pods/status with a strategic merge
// patch from pod's status that carries pod's uid, so that a pod recreated
// under the same name is not touched. Nothing is sent when status equals
// pod's.
func Patch(ctx context.Context, pods corev1client.PodInterface, pod *corev1.Pod, status corev1.PodStatus) error {
	oldData, err := json.Marshal(corev1.Pod{Status: pod.Status})
	if err != nil {
		return err
	}
	newData, err := json.Marshal(corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: pod.UID}, Status: status})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldData, newData, corev1.Pod{})
	if err != nil {
		return fmt.Errorf("patch of the status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if string(patch) == fmt.Sprintf(`{"metadata":{"uid":%q}}`, pod.UID) {
		return nil
	}
	if _, err := pods.Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("patching the status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}
