// Package privileged enforces --allow-privileged=false: no container of a
// pod or of a workload's pod template may be privileged. Upstream checks
// this in its pod validation (capabilities.AllowPrivileged); kinc runs it
// as an always-on validating step of the admission chain with upstream's
// answer, 422 `spec.containers[0].securityContext.privileged: Forbidden:
// disallowed by cluster policy`.
package privileged

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
)

// Name is the step's name in the chain (not an upstream plugin name: the
// flags cannot select it).
const Name = "AllowPrivileged=false"

// Plugin refuses privileged containers. The zero value is ready to use.
type Plugin struct{}

// Name implements admission.Plugin.
func (Plugin) Name() string { return Name }

// Handles implements admission.Plugin: creates and updates.
func (Plugin) Handles(op admission.Operation) bool {
	return op == admission.Create || op == admission.Update
}

// Validate implements admission.Validator.
func (Plugin) Validate(_ context.Context, a *admission.Attributes) error {
	if a.Subresource != "" && a.Subresource != "ephemeralcontainers" {
		return nil
	}
	spec, path := podSpec(a.Object)
	if spec == nil {
		return nil
	}
	var errs field.ErrorList
	check := func(p *field.Path, sc *corev1.SecurityContext) {
		if sc != nil && sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, field.Forbidden(p.Child("securityContext", "privileged"), "disallowed by cluster policy"))
		}
	}
	for i := range spec.InitContainers {
		check(path.Child("initContainers").Index(i), spec.InitContainers[i].SecurityContext)
	}
	for i := range spec.Containers {
		check(path.Child("containers").Index(i), spec.Containers[i].SecurityContext)
	}
	for i := range spec.EphemeralContainers {
		check(path.Child("ephemeralContainers").Index(i), spec.EphemeralContainers[i].SecurityContext)
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(a.Kind.GroupKind(), a.Name, errs)
}

// podSpec returns the pod spec of a pod or of a workload's template, with
// its field path, or nil.
func podSpec(obj runtime.Object) (*corev1.PodSpec, *field.Path) {
	tmpl := field.NewPath("spec", "template", "spec")
	switch o := obj.(type) {
	case *corev1.Pod:
		return &o.Spec, field.NewPath("spec")
	case *corev1.PodTemplate:
		return &o.Template.Spec, field.NewPath("template", "spec")
	case *corev1.ReplicationController:
		if o.Spec.Template == nil {
			return nil, nil
		}
		return &o.Spec.Template.Spec, tmpl
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec, tmpl
	case *appsv1.ReplicaSet:
		return &o.Spec.Template.Spec, tmpl
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec, tmpl
	case *appsv1.DaemonSet:
		return &o.Spec.Template.Spec, tmpl
	case *batchv1.Job:
		return &o.Spec.Template.Spec, tmpl
	case *batchv1.CronJob:
		return &o.Spec.JobTemplate.Spec.Template.Spec, field.NewPath("spec", "jobTemplate", "spec", "template", "spec")
	}
	return nil, nil
}
