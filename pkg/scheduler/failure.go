package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/metrics"
	"github.com/kinc-dev/kinc/pkg/scheduler/queue"
)

// maxMessageLength bounds an event message, as upstream's truncation.
const maxMessageLength = 1024

// handleSchedulingFailure records a failed attempt: a FailedScheduling
// event, the PodScheduled=False condition, and the pod back in the queue
// (unless it was deleted or bound meanwhile).
func (s *Scheduler) handleSchedulingFailure(ctx context.Context, fwk *framework.Framework, pInfo *queue.QueuedPodInfo, err error, cycle int64, start time.Time) {
	pod := pInfo.Pod
	reason := v1.PodReasonUnschedulable
	result := metrics.ResultUnschedulable
	var fitErr *FitError
	if errors.As(err, &fitErr) {
		pInfo.UnschedulablePlugins = fitErr.Diagnosis.UnschedulablePlugins
		pInfo.Error = false
	} else {
		reason, result = v1.PodReasonSchedulerError, metrics.ResultError
		pInfo.UnschedulablePlugins = nil
		pInfo.Error = true
	}
	s.metrics.ObserveAttempt(fwk.ProfileName(), result, s.clock.Since(start))
	msg := err.Error()
	if len(msg) > maxMessageLength {
		msg = msg[:maxMessageLength-3] + "..."
	}
	s.logger.Info("unable to schedule pod", "pod", queue.Key(pod), "reason", reason, "err", msg)

	cur, gerr := s.podLister.Pods(pod.Namespace).Get(pod.Name)
	switch {
	case gerr != nil || cur.UID != pod.UID:
		return // deleted meanwhile
	case cur.Spec.NodeName != "":
		return // bound meanwhile
	}
	pInfo.Pod = cur
	s.queue.AddUnschedulableIfNotPresent(pInfo, cycle)
	s.recorders[fwk.ProfileName()].Event(cur, v1.EventTypeWarning, "FailedScheduling", msg)
	cond := v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionFalse, Reason: reason, Message: msg}
	if err := s.updatePodCondition(ctx, cur, cond); err != nil && !apierrors.IsNotFound(err) {
		s.logger.Error("updating pod condition", "pod", queue.Key(pod), "err", err)
	}
}

// updatePodCondition patches pods/status with cond when it differs from
// the pod's current PodScheduled condition (strategic merge on conditions).
func (s *Scheduler) updatePodCondition(ctx context.Context, pod *v1.Pod, cond v1.PodCondition) error {
	newStatus := pod.Status.DeepCopy()
	found := false
	for i := range newStatus.Conditions {
		c := &newStatus.Conditions[i]
		if c.Type != cond.Type {
			continue
		}
		found = true
		if c.Status == cond.Status && c.Reason == cond.Reason && c.Message == cond.Message {
			return nil
		}
		if c.Status != cond.Status {
			c.LastTransitionTime = metav1.NewTime(s.clock.Now())
		}
		c.Status, c.Reason, c.Message, c.LastProbeTime = cond.Status, cond.Reason, cond.Message, metav1.Time{}
	}
	if !found {
		cond.LastTransitionTime = metav1.NewTime(s.clock.Now())
		newStatus.Conditions = append(newStatus.Conditions, cond)
	}
	oldJSON, err := json.Marshal(v1.Pod{Status: pod.Status})
	if err != nil {
		return err
	}
	newJSON, err := json.Marshal(v1.Pod{Status: *newStatus})
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldJSON, newJSON, v1.Pod{})
	if err != nil {
		return err
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}
