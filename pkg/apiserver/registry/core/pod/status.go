package pod

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type statusStrategy struct{ strategy }

// NewStatusStrategy returns the strategy for pods/status: the stored spec,
// deletionTimestamp and ownerReferences are kept, the QoS class cannot
// change, and terminated containers cannot restart unless the pod's restart
// policy allows it.
func NewStatusStrategy() registry.Strategy { return statusStrategy{} }

// PrepareForUpdate keeps old's spec and the metadata the status endpoint may
// not touch, and back-fills the QoS class and observed generations.
func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	pod, oldPod := regutil.Cast[*corev1.Pod](obj), regutil.Cast[*corev1.Pod](old)
	pod.Spec = oldPod.Spec
	pod.DeletionTimestamp = oldPod.DeletionTimestamp
	pod.OwnerReferences = oldPod.OwnerReferences
	if pod.Status.QOSClass == "" {
		pod.Status.QOSClass = oldPod.Status.QOSClass
	}
	if pod.Status.ObservedGeneration == 0 {
		pod.Status.ObservedGeneration = oldPod.Status.ObservedGeneration
	}
}

// ValidateUpdate validates a status update (ValidatePodStatusUpdate).
func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pod, oldPod := regutil.Cast[*corev1.Pod](obj), regutil.Cast[*corev1.Pod](old)
	errs := validateAnnotationUpdates(pod, oldPod)
	system := sets.New(corev1.PodScheduled, corev1.PodReady, corev1.PodInitialized)
	for i, c := range pod.Status.Conditions {
		if !system.Has(c.Type) {
			errs = append(errs, podspec.ValidateQualifiedName(string(c.Type), field.NewPath("metadata", "conditions").Index(i).Child("Type"))...)
		}
	}
	statusPath := field.NewPath("status")
	if pod.Spec.NodeName != oldPod.Spec.NodeName {
		errs = append(errs, field.Forbidden(statusPath.Child("nodeName"), "may not be changed directly"))
	}
	if n := pod.Status.NominatedNodeName; n != oldPod.Status.NominatedNodeName && n != "" {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(n, false) {
			errs = append(errs, field.Invalid(statusPath.Child("nominatedNodeName"), n, msg))
		}
	}
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(pod.Status.QOSClass, oldPod.Status.QOSClass, statusPath.Child("qosClass"))...)
	errs = append(errs, validateStateTransitions(pod.Status.ContainerStatuses, oldPod.Status.ContainerStatuses, oldPod.Spec.RestartPolicy, nil, statusPath.Child("containerStatuses"))...)
	errs = append(errs, validateStateTransitions(pod.Status.InitContainerStatuses, oldPod.Status.InitContainerStatuses, oldPod.Spec.RestartPolicy, oldPod.Spec.InitContainers, statusPath.Child("initContainerStatuses"))...)
	errs = append(errs, validateStateTransitions(pod.Status.EphemeralContainerStatuses, oldPod.Status.EphemeralContainerStatuses, corev1.RestartPolicyNever, nil, statusPath.Child("ephemeralContainerStatuses"))...)
	for i, ip := range pod.Status.PodIPs {
		errs = append(errs, validation.IsValidIP(statusPath.Child("podIPs").Index(i), ip.IP)...)
	}
	if len(pod.Status.HostIPs) > 0 && pod.Status.HostIP != pod.Status.HostIPs[0].IP {
		errs = append(errs, field.Invalid(statusPath.Child("hostIPs").Index(0).Child("ip"), pod.Status.HostIPs[0].IP, "must be equal to `hostIP`"))
	}
	for i, ip := range pod.Status.HostIPs {
		errs = append(errs, validation.IsValidIP(statusPath.Child("hostIPs").Index(i), ip.IP)...)
	}
	return errs
}

// validateStateTransitions forbids moving a terminated container back to a
// non-terminated state unless the restart policy (or, for init containers,
// restartPolicy Always on the container) allows it.
func validateStateTransitions(statuses, oldStatuses []corev1.ContainerStatus, policy corev1.RestartPolicy, inits []corev1.Container, fldPath *field.Path) field.ErrorList {
	if policy == corev1.RestartPolicyAlways {
		return nil
	}
	restartable := map[string]bool{}
	for _, c := range inits {
		restartable[c.Name] = c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
	}
	var errs field.ErrorList
	for i, old := range oldStatuses {
		if old.State.Terminated == nil || restartable[old.Name] {
			continue
		}
		if old.State.Terminated.ExitCode != 0 && policy == corev1.RestartPolicyOnFailure {
			continue
		}
		for _, s := range statuses {
			if s.Name == old.Name && s.State.Terminated == nil {
				errs = append(errs, field.Forbidden(fldPath.Index(i).Child("state"), "may not be transitioned to non-terminated state"))
			}
		}
	}
	return errs
}
