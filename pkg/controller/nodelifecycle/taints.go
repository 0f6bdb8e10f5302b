package nodelifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// The NoExecute taints the controller puts on nodes whose Ready condition
// is Unknown (unreachable) or False (not ready); the two exclude each
// other, as the condition's values do.
var (
	unreachableTaint = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReadyTaint    = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
)

// conditionTaints maps a node condition and its status to the key of the
// NoSchedule taint the controller keeps on the node meanwhile, as
// upstream's nodeConditionToTaintKeyStatusMap.
var conditionTaints = map[corev1.NodeConditionType]map[corev1.ConditionStatus]string{
	corev1.NodeReady: {
		corev1.ConditionFalse:   corev1.TaintNodeNotReady,
		corev1.ConditionUnknown: corev1.TaintNodeUnreachable,
	},
	corev1.NodeMemoryPressure:     {corev1.ConditionTrue: corev1.TaintNodeMemoryPressure},
	corev1.NodeDiskPressure:       {corev1.ConditionTrue: corev1.TaintNodeDiskPressure},
	corev1.NodeNetworkUnavailable: {corev1.ConditionTrue: corev1.TaintNodeNetworkUnavailable},
	corev1.NodePIDPressure:        {corev1.ConditionTrue: corev1.TaintNodePIDPressure},
}

// conditionTaintKeys are the keys of conditionTaints' taints.
var conditionTaintKeys = []string{
	corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeMemoryPressure,
	corev1.TaintNodeDiskPressure, corev1.TaintNodeNetworkUnavailable, corev1.TaintNodePIDPressure,
}

// hasTaint reports whether taints hold one with t's key and effect.
func hasTaint(taints []corev1.Taint, t corev1.Taint) bool {
	return slices.ContainsFunc(taints, func(x corev1.Taint) bool { return x.MatchTaint(&t) })
}

// swapTaints adds add (stamped with timeAdded) and removes remove
// (matched by key and effect) on the node named name, as upstream's
// SwapNodeControllerTaint: one strategic merge patch of spec.taints from a
// fresh read, conditional on its resourceVersion, retried on conflict. A
// taint already present with the same value is left as it is (its
// timeAdded kept). Nothing is written when nothing changes.
func swapTaints(ctx context.Context, client kubernetes.Interface, name string, add, remove []corev1.Taint, timeAdded metav1.Time) error {
	return retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		taints := slices.Clone(node.Spec.Taints)
		changed := false
		for _, t := range add {
			i := slices.IndexFunc(taints, func(x corev1.Taint) bool { return x.MatchTaint(&t) })
			if i >= 0 && taints[i].Value == t.Value {
				continue
			}
			t.TimeAdded = &timeAdded
			if i >= 0 {
				taints[i] = t
			} else {
				taints = append(taints, t)
			}
			changed = true
		}
		for _, t := range remove {
			before := len(taints)
			taints = slices.DeleteFunc(taints, func(x corev1.Taint) bool { return x.MatchTaint(&t) })
			changed = changed || len(taints) != before
		}
		if !changed {
			return nil
		}
		return patchTaints(ctx, client, node, taints)
	})
}

// patchTaints writes taints as node's spec.taints with a strategic merge
// patch carrying node's resourceVersion (taints have no merge key: the
// list is replaced), so that a concurrent change is a conflict.
func patchTaints(ctx context.Context, client kubernetes.Interface, node *corev1.Node, taints []corev1.Taint) error {
	oldNoRV := node.DeepCopy()
	oldNoRV.ResourceVersion = ""
	oldData, err := json.Marshal(oldNoRV)
	if err != nil {
		return err
	}
	updated := node.DeepCopy()
	updated.Spec.Taints = taints
	newData, err := json.Marshal(updated)
	if err != nil {
		return err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(oldData, newData, corev1.Node{})
	if err != nil {
		return fmt.Errorf("patch of the taints of node %s: %w", node.Name, err)
	}
	_, err = client.CoreV1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

// markPodsNotReady sets the Ready condition of each pod of pods bound to
// nodeName to False through pods/status (a pod without a Ready condition,
// or whose condition is already False, is left alone), and records the
// Warning event NodeNotReady "Node is not ready" on each, as upstream's
// MarkPodsNotReady. A pod gone meanwhile is skipped; other failures are
// returned together after trying every pod.
func (c *Controller) markPodsNotReady(ctx context.Context, pods []*corev1.Pod, nodeName string) error {
	var errs []error
	for _, p := range pods {
		if p.Spec.NodeName != nodeName {
			continue
		}
		i := slices.IndexFunc(p.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.PodReady })
		if i < 0 || p.Status.Conditions[i].Status == corev1.ConditionFalse {
			continue
		}
		pod := p.DeepCopy()
		cond := &pod.Status.Conditions[i]
		cond.Status = corev1.ConditionFalse
		cond.LastTransitionTime = metav1.NewTime(c.Clock().Now())
		c.Logger().Debug("marking pod not ready", "pod", pod.Namespace+"/"+pod.Name, "node", nodeName)
		if _, err := c.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			errs = append(errs, fmt.Errorf("marking pod %s/%s not ready: %w", pod.Namespace, pod.Name, err))
			continue
		}
		c.recorder.Event(pod, corev1.EventTypeWarning, "NodeNotReady", "Node is not ready")
	}
	return errors.Join(errs...)
}

// nodeRef is the object an event about a node refers to.
func nodeRef(name string, uid types.UID) *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: name, UID: uid}
}

// recordNodeEvent records a Normal event about the node as upstream's
// RecordNodeEvent: message "Node <name> event: <event>".
func (c *Controller) recordNodeEvent(name string, uid types.UID, reason, event string) {
	c.recorder.Eventf(nodeRef(name, uid), corev1.EventTypeNormal, reason, "Node %s event: %s", name, event)
}

// recordNodeStatusChange records a Normal event reason status about the
// node as upstream's RecordNodeStatusChange: "Node <name> status is now:
// <status>".
func (c *Controller) recordNodeStatusChange(node *corev1.Node, status string) {
	c.recorder.Eventf(nodeRef(node.Name, node.UID), corev1.EventTypeNormal, status, "Node %s status is now: %s", node.Name, status)
}
