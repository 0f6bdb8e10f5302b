package namespace

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to namespaces (cluster-scoped).
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate sets phase Active, makes sure spec.finalizers holds
// "kubernetes", and labels the namespace with its name.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ns := regutil.Cast[*corev1.Namespace](obj)
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	has := false
	for _, f := range ns.Spec.Finalizers {
		has = has || f == corev1.FinalizerKubernetes
	}
	if !has {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
	setNameLabel(ns)
}

// Finalized implements registry.Finalizer: a namespace being deleted goes
// away on update only once spec.finalizers is empty too. The status and
// finalize strategies embed it.
func (strategy) Finalized(obj runtime.Object) bool {
	return len(regutil.Cast[*corev1.Namespace](obj).Spec.Finalizers) == 0
}

// NameFunc is the rule for namespace names (a DNS label), for the store's
// metadata.name check.
func NameFunc(name string, prefix bool) []string {
	return apimachineryvalidation.ValidateNamespaceName(name, prefix)
}

// Validate requires valid finalizer names.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ns := regutil.Cast[*corev1.Namespace](obj)
	var errs field.ErrorList
	for _, f := range ns.Spec.Finalizers {
		errs = append(errs, validateFinalizerName(string(f), field.NewPath("spec", "finalizers"))...)
	}
	return errs
}

// PrepareForUpdate keeps the stored finalizers and status: they change only
// through the finalize and status subresources.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	ns, oldNS := regutil.Cast[*corev1.Namespace](obj), regutil.Cast[*corev1.Namespace](old)
	ns.Spec.Finalizers = oldNS.Spec.Finalizers
	ns.Status = oldNS.Status
	setNameLabel(ns)
}

// ValidateUpdate has nothing kind-specific to check.
func (strategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

type statusStrategy struct{ strategy }

// NewStatusStrategy returns the strategy for namespaces/status: the spec is
// kept and the phase must be Active without, and Terminating with, a
// deletionTimestamp.
func NewStatusStrategy() registry.Strategy { return statusStrategy{} }

func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	ns, oldNS := regutil.Cast[*corev1.Namespace](obj), regutil.Cast[*corev1.Namespace](old)
	ns.Spec = oldNS.Spec
	setNameLabel(ns)
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	ns := regutil.Cast[*corev1.Namespace](obj)
	p := field.NewPath("status", "Phase")
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty")}
		}
	} else if ns.Status.Phase != corev1.NamespaceTerminating {
		return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")}
	}
	return nil
}

type finalizeStrategy struct{ strategy }

// NewFinalizeStrategy returns the strategy for namespaces/finalize (PUT by
// the namespace controller): only spec.finalizers change.
func NewFinalizeStrategy() registry.Strategy { return finalizeStrategy{} }

func (finalizeStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	ns, oldNS := regutil.Cast[*corev1.Namespace](obj), regutil.Cast[*corev1.Namespace](old)
	ns.Status = oldNS.Status
	setNameLabel(ns)
}

func (finalizeStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	ns := regutil.Cast[*corev1.Namespace](obj)
	var errs field.ErrorList
	for i, f := range ns.Spec.Finalizers {
		errs = append(errs, validateFinalizerName(string(f), field.NewPath("spec", "finalizers").Index(i))...)
	}
	return errs
}

// GetAttrs returns a namespace's labels and fields metadata.name and
// status.phase.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ns, err := regutil.AttrsOf[*corev1.Namespace](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(ns.Labels), regutil.MetaFields(&ns.ObjectMeta, false, fields.Set{"status.phase": string(ns.Status.Phase)}), nil
}

// setNameLabel is SetDefaults_Namespace: the immutable
// kubernetes.io/metadata.name label always equals the name.
func setNameLabel(ns *corev1.Namespace) {
	if ns.Name == "" {
		return
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

func validateFinalizerName(name string, fldPath *field.Path) field.ErrorList {
	errs := apimachineryvalidation.ValidateFinalizerName(name, fldPath)
	if !strings.Contains(name, "/") && name != string(corev1.FinalizerKubernetes) {
		errs = append(errs, field.Invalid(fldPath, name, "name is neither a standard finalizer name nor is it fully qualified"))
	}
	return errs
}

var (
	_ registry.AttrFunc  = GetAttrs
	_ registry.Finalizer = strategy{}
)
