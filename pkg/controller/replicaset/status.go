package replicaset

import (
	"context"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

// calculateStatus returns rs's status for its active and terminating
// pods: counts, and the ReplicaFailure condition set (reason FailedCreate
// or FailedDelete, the error as message) when manageErr is not nil and
// removed when it is.
func calculateStatus(rs *appsv1.ReplicaSet, active, terminating []*corev1.Pod, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	status := *rs.Status.DeepCopy()
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	var fullyLabeled, ready, available int32
	for _, p := range active {
		if templateLabels.Matches(labels.Set(p.Labels)) {
			fullyLabeled++
		}
		if IsPodReady(p) {
			ready++
			if IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failure := condition(rs.Status, appsv1.ReplicaSetReplicaFailure)
	switch {
	case manageErr != nil && failure == nil:
		reason := ""
		if diff := len(active) - int(derefReplicas(rs)); diff < 0 {
			reason = "FailedCreate"
		} else if diff > 0 {
			reason = "FailedDelete"
		}
		status.Conditions = append(status.Conditions, appsv1.ReplicaSetCondition{Type: appsv1.ReplicaSetReplicaFailure,
			Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error()})
	case manageErr == nil && failure != nil:
		var kept []appsv1.ReplicaSetCondition
		for _, c := range status.Conditions {
			if c.Type != appsv1.ReplicaSetReplicaFailure {
				kept = append(kept, c)
			}
		}
		status.Conditions = kept
	}
	status.Replicas = int32(len(active))
	status.FullyLabeledReplicas = fullyLabeled
	status.ReadyReplicas = ready
	status.AvailableReplicas = available
	status.TerminatingReplicas = ptr.To(int32(len(terminating)))
	return status
}

func condition(s appsv1.ReplicaSetStatus, t appsv1.ReplicaSetConditionType) *appsv1.ReplicaSetCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// updateStatus writes status (with observedGeneration = generation)
// through /status unless rs has it already, and returns the ReplicaSet as
// written (rs when nothing was written). A failed write is retried once on
// a fresh read; a ReplicaSet gone meanwhile returns nil, nil.
func (c *Controller) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet, status appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	if rs.Status.Replicas == status.Replicas && rs.Status.FullyLabeledReplicas == status.FullyLabeledReplicas &&
		rs.Status.ReadyReplicas == status.ReadyReplicas && rs.Status.AvailableReplicas == status.AvailableReplicas &&
		ptr.Equal(rs.Status.TerminatingReplicas, status.TerminatingReplicas) &&
		rs.Generation == rs.Status.ObservedGeneration && reflect.DeepEqual(rs.Status.Conditions, status.Conditions) {
		return rs, nil
	}
	status.ObservedGeneration = rs.Generation
	client := c.client.AppsV1().ReplicaSets(rs.Namespace)
	cur := rs.DeepCopy()
	for attempt := 0; ; attempt++ {
		cur.Status = status
		updated, err := client.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			return updated, nil
		}
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if attempt >= 1 {
			return nil, err
		}
		fresh, getErr := client.Get(ctx, rs.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(getErr) {
			return nil, nil
		}
		if getErr != nil {
			return nil, getErr
		}
		if fresh.UID != rs.UID {
			return nil, nil // replaced: its own events sync it
		}
		cur = fresh
	}
}
