package tainteviction

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/controller/internal/podstatus"
)

// matchingTolerations returns whether tolerations tolerate every taint, and
// for each taint the first toleration that does (upstream's
// GetMatchingTolerations, without the alpha comparison operators).
func matchingTolerations(taints []corev1.Taint, tolerations []corev1.Toleration) (bool, []corev1.Toleration) {
	var used []corev1.Toleration
	for i := range taints {
		tolerated := false
		for j := range tolerations {
			if tolerations[j].ToleratesTaint(logr.Discard(), &taints[i], false) {
				used = append(used, tolerations[j])
				tolerated = true
				break
			}
		}
		if !tolerated {
			return false, nil
		}
	}
	return true, used
}

// minTolerationTime returns the shortest tolerationSeconds of tolerations
// (0 when one is <= 0, or when there are none), or -1 when all tolerate
// forever.
func minTolerationTime(tolerations []corev1.Toleration) time.Duration {
	if len(tolerations) == 0 {
		return 0
	}
	least := int64(math.MaxInt64)
	for _, t := range tolerations {
		if t.TolerationSeconds == nil {
			continue
		}
		if *t.TolerationSeconds <= 0 {
			return 0
		}
		least = min(least, *t.TolerationSeconds)
	}
	if least == math.MaxInt64 {
		return -1
	}
	return time.Duration(least) * time.Second
}

// reconcile schedules, keeps or cancels the eviction of pod from a node
// with the NoExecute taints taints, as upstream's processPodOnNode, and
// evicts it when the eviction is due.
func (c *Controller) reconcile(ctx context.Context, pod *corev1.Pod, taints []corev1.Taint, now time.Time) error {
	key := pod.Namespace + "/" + pod.Name
	if len(taints) == 0 {
		c.cancel(key)
		return nil
	}
	tolerated, used := matchingTolerations(taints, pod.Spec.Tolerations)
	if !tolerated {
		c.Logger().Info("pod does not tolerate the NoExecute taints of its node", "pod", key, "node", pod.Spec.NodeName)
		if !c.due(key, now) {
			c.cancel(key)
			c.schedule(key, now, now)
		}
		return c.evictIfDue(ctx, pod, now)
	}
	least := minTolerationTime(used)
	if least < 0 {
		c.cancel(key)
		return nil
	}
	c.mu.Lock()
	e := c.evictions[key]
	c.mu.Unlock()
	createdAt := now
	if e != nil {
		// Scheduled earlier: kept (as upstream, whose check keeps any
		// eviction created before now).
		if e.createdAt.Add(least).Before(now.Add(least)) {
			return c.evictIfDue(ctx, pod, now)
		}
		createdAt = e.createdAt
		c.cancel(key)
	}
	c.schedule(key, createdAt, createdAt.Add(least))
	return c.evictIfDue(ctx, pod, now)
}

// due reports whether key has an eviction due at now.
func (c *Controller) due(key string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.evictions[key]
	return e != nil && !now.Before(e.fireAt)
}

// schedule records key's eviction, created at createdAt and due at
// fireAt, with a timer that enqueues the pod's key then.
func (c *Controller) schedule(key string, createdAt, fireAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.evictions[key] != nil {
		return
	}
	e := &eviction{createdAt: createdAt, fireAt: fireAt}
	if d := fireAt.Sub(c.Clock().Now()); d > 0 {
		e.timer = c.clock.AfterFunc(d, func() { c.EnqueueKey(key) })
	}
	c.evictions[key] = e
	c.Logger().Info("pod eviction scheduled", "pod", key, "at", fireAt)
}

// cancel forgets key's eviction, recording the Normal event
// TaintManagerEviction "Cancelling deletion of Pod <key>" when there was
// one.
func (c *Controller) cancel(key string) {
	c.mu.Lock()
	e := c.evictions[key]
	delete(c.evictions, key)
	c.mu.Unlock()
	if e == nil {
		return
	}
	if e.timer != nil {
		e.timer.Stop()
	}
	c.Logger().Info("pod eviction cancelled", "pod", key)
	c.recorder.Eventf(podRef(key), corev1.EventTypeNormal, "TaintManagerEviction", "Cancelling deletion of Pod %s", key)
}

// forget drops key's eviction without an event (it was carried out).
func (c *Controller) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.evictions[key]; e != nil && e.timer != nil {
		e.timer.Stop()
	}
	delete(c.evictions, key)
}

// stopAll stops every pending timer (shutdown).
func (c *Controller) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.evictions {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
}

func podRef(key string) *corev1.ObjectReference {
	ns, name, _ := strings.Cut(key, "/")
	return &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: ns, Name: name}
}

// evictIfDue deletes pod when its eviction is due: the event
// TaintManagerEviction "Marking for deletion Pod <ns>/<name>" (once), the
// DisruptionTarget condition through pods/status, then the delete. A pod
// gone meanwhile is done; other failures are returned (the key is
// retried with backoff).
func (c *Controller) evictIfDue(ctx context.Context, pod *corev1.Pod, now time.Time) error {
	key := pod.Namespace + "/" + pod.Name
	c.mu.Lock()
	e := c.evictions[key]
	if e == nil || now.Before(e.fireAt) {
		c.mu.Unlock()
		return nil
	}
	announce := !e.announced
	e.announced = true
	c.mu.Unlock()
	if announce {
		c.Logger().Info("deleting pod", "pod", key, "node", pod.Spec.NodeName)
		c.recorder.Eventf(podRef(key), corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s", key)
	}
	err := c.addConditionAndDelete(ctx, pod.Namespace, pod.Name)
	if err == nil || apierrors.IsNotFound(err) {
		c.forget(key)
		return nil
	}
	return fmt.Errorf("evicting pod %s: %w", key, err)
}

// addConditionAndDelete reads the pod afresh, gives it the condition
// DisruptionTarget=True (reason DeletionByTaintManager) unless it has it,
// and deletes it.
func (c *Controller) addConditionAndDelete(ctx context.Context, ns, name string) error {
	pod, err := c.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	status := pod.Status.DeepCopy()
	cond := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, ObservedGeneration: pod.Generation,
		Reason: "DeletionByTaintManager", Message: "Taint manager: deleting due to NoExecute taint"}
	if podstatus.SetCondition(status, cond, metav1.NewTime(c.Clock().Now())) {
		if err := podstatus.Patch(ctx, c.client.CoreV1().Pods(ns), pod, *status); err != nil {
			return err
		}
	}
	return c.client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{})
}
