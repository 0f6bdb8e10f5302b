package pod

import (
	"context"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

// Annotations with pod-specific meaning.
const (
	mirrorPodAnnotation       = corev1.MirrorPodAnnotationKey
	podDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"
)

// strategy is the pod strategy; tolerations are the tolerationSeconds
// of the DefaultTolerationSeconds admission plugin.
type strategy struct {
	tolerations registry.TolerationSeconds
}

// NewStrategy returns the strategy for writes to pods, whose admission-time
// defaults give the not-ready and unreachable tolerations the seconds of
// ts. It also implements registry.GracefulDeleter. Pods do not track
// metadata.generation here.
func NewStrategy(ts registry.TolerationSeconds) registry.Strategy {
	return strategy{tolerations: ts}
}

var _ registry.GracefulDeleter = strategy{}

// PrepareForCreate resets status to phase Pending with the computed QoS
// class, and applies defaults and the admission-time defaults.
func (s strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	pod := regutil.Cast[*corev1.Pod](obj)
	SetDefaults(pod)
	admitCreate(pod, s.tolerations)
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: ComputeQOS(pod)}
}

// Validate validates a new pod.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pod := regutil.Cast[*corev1.Pod](obj)
	errs := validatePod(pod)
	specPath := field.NewPath("spec")
	if len(pod.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(specPath.Child("ephemeralContainers"), "cannot be set on create"))
	}
	if pod.Spec.NodeName != "" && len(pod.Spec.SchedulingGates) != 0 {
		errs = append(errs, field.Forbidden(specPath.Child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
	}
	return errs
}

// PrepareForUpdate keeps the stored status, priority and preemption policy
// (as the Priority admission plugin does) and re-applies defaults, the
// DefaultTolerationSeconds plugin's included (it admits updates too).
// Through pods/ephemeralcontainers only spec.ephemeralContainers changes.
func (s strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	pod, oldPod := regutil.Cast[*corev1.Pod](obj), regutil.Cast[*corev1.Pod](old)
	if isEphemeral(ctx) {
		prepareEphemeralUpdate(pod, oldPod)
		return
	}
	pod.Status = oldPod.Status
	SetDefaults(pod)
	if oldPod.Spec.Priority != nil {
		pod.Spec.Priority = oldPod.Spec.Priority
	}
	if oldPod.Spec.PreemptionPolicy != nil {
		pod.Spec.PreemptionPolicy = oldPod.Spec.PreemptionPolicy
	}
	addDefaultTolerations(pod, s.tolerations)
}

// ValidateUpdate validates the new pod and that only the mutable parts of
// its spec changed (through pods/ephemeralcontainers: that ephemeral
// containers were only added).
func (strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	pod, oldPod := regutil.Cast[*corev1.Pod](obj), regutil.Cast[*corev1.Pod](old)
	if isEphemeral(ctx) {
		return validateEphemeralUpdate(pod, oldPod)
	}
	errs := validatePod(pod)
	errs = append(errs, validateAnnotationUpdates(pod, oldPod)...)
	return append(errs, validateSpecUpdate(pod, oldPod)...)
}

// CheckGracefulDelete implements upstream's rule: the grace period is the
// request's, else spec.terminationGracePeriodSeconds (else 0); it is 0 for a
// pod not bound to a node or already terminal, and a negative value becomes
// 1. The decision always counts as graceful; a zero period tells the store
// to delete at once.
func (strategy) CheckGracefulDelete(_ context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	if options == nil {
		return false
	}
	pod := regutil.Cast[*corev1.Pod](obj)
	var period int64
	switch {
	case options.GracePeriodSeconds != nil:
		period = *options.GracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		period = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		period = 0
	}
	if period < 0 {
		period = 1
	}
	options.GracePeriodSeconds = &period
	return true
}

// validatePod is validatePodMetadataAndSpec minus what the store checks.
func validatePod(pod *corev1.Pod) field.ErrorList {
	errs := validatePodAnnotations(pod)
	return append(errs, podspec.ValidatePodSpec(&pod.Spec, &pod.ObjectMeta, field.NewPath("spec"), podspec.Options{ResourceIsPod: true})...)
}

func validatePodAnnotations(pod *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("metadata", "annotations")
	if v, ok := pod.Annotations[mirrorPodAnnotation]; ok && pod.Spec.NodeName == "" {
		errs = append(errs, field.Invalid(p.Key(mirrorPodAnnotation), v, "must set spec.nodeName if mirror pod annotation is set"))
	}
	if v, ok := pod.Annotations[podDeletionCostAnnotation]; ok {
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			errs = append(errs, field.Invalid(p.Key(podDeletionCostAnnotation), v, "must be a 32bit integer"))
		}
	}
	return errs
}

func validateAnnotationUpdates(pod, oldPod *corev1.Pod) field.ErrorList {
	p := field.NewPath("metadata", "annotations").Key(mirrorPodAnnotation)
	oldV, hadOld := oldPod.Annotations[mirrorPodAnnotation]
	newV, hasNew := pod.Annotations[mirrorPodAnnotation]
	switch {
	case hadOld && (!hasNew || newV != oldV):
		return field.ErrorList{field.Forbidden(p, "may not remove or update mirror pod annotation")}
	case !hadOld && hasNew:
		return field.ErrorList{field.Forbidden(p, "may not add mirror pod annotation")}
	}
	return nil
}
