package pod

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var bindingResource = schema.GroupResource{Resource: "pods/binding"}

// ApplyBinding binds pod to binding's target node in place, as upstream's
// pods/binding storage does inside its guaranteed update: it sets
// spec.nodeName, merges the Binding's annotations into the pod's, and sets
// the PodScheduled condition to True. The caller stores the result.
//
// Errors: 422 Invalid when the Binding's target is not a Node or has no
// name; 409 Conflict when the Binding's UID does not match the pod, when the
// pod is being deleted, still has scheduling gates, or is already bound
// (`pod x is already assigned to node "n"`). The pod is not modified on error.
func ApplyBinding(pod *corev1.Pod, binding *corev1.Binding) error {
	var errs field.ErrorList
	if k := binding.Target.Kind; k != "" && k != "Node" {
		errs = append(errs, field.NotSupported(field.NewPath("target", "kind"), k, []string{"Node", "<empty>"}))
	}
	if binding.Target.Name == "" {
		errs = append(errs, field.Required(field.NewPath("target", "name"), ""))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, binding.Name, errs)
	}
	conflict := func(format string, args ...any) error {
		return apierrors.NewConflict(bindingResource, pod.Name, fmt.Errorf(format, args...))
	}
	switch {
	case binding.UID != "" && binding.UID != pod.UID:
		return conflict("Precondition failed: UID in precondition: %v, UID in object meta: %v", binding.UID, pod.UID)
	case pod.DeletionTimestamp != nil:
		return conflict("pod %s is being deleted, cannot be assigned to a host", pod.Name)
	case pod.Spec.NodeName != "":
		return conflict("pod %v is already assigned to node %q", pod.Name, pod.Spec.NodeName)
	case len(pod.Spec.SchedulingGates) != 0:
		return conflict("pod %v has non-empty .spec.schedulingGates", pod.Name)
	}
	pod.Spec.NodeName = binding.Target.Name
	if len(binding.Annotations) > 0 && pod.Annotations == nil {
		pod.Annotations = make(map[string]string, len(binding.Annotations))
	}
	for k, v := range binding.Annotations {
		pod.Annotations[k] = v
	}
	setCondition(&pod.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, metav1.Now())
	return nil
}

// setCondition is upstream's UpdatePodCondition: the transition time moves
// only when the status changes.
func setCondition(status *corev1.PodStatus, c corev1.PodCondition, now metav1.Time) {
	c.LastTransitionTime = now
	for i := range status.Conditions {
		old := &status.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return
	}
	status.Conditions = append(status.Conditions, c)
}
