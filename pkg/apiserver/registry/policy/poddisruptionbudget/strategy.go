package poddisruptionbudget

import (
	"context"
	"slices"

	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

// v1beta1Label is the selector key policy/v1beta1 conversions use to tell
// "match none" from "match all"; policy/v1 writes do not keep it.
const v1beta1Label = "pdb.kubernetes.io/deprecated-v1beta1-empty-selector"

func rules() generic.Rules[*policyv1.PodDisruptionBudget] {
	return generic.Rules[*policyv1.PodDisruptionBudget]{SpecStatus: true, ValidateStatus: validateStatus}
}

// strategy adds to the generic spec/status strategy what depends on the
// stored object: the v1beta1 selector key is stripped only from a changed
// selector, and label values the stored selector already had are tolerated.
type strategy struct{ registry.Strategy }

// NewStrategy returns the strategy for writes to poddisruptionbudgets.
func NewStrategy() registry.Strategy { return strategy{rules().Strategy()} }

// NewStatusStrategy returns the strategy for poddisruptionbudgets/status:
// spec and generation are kept; counts must be non-negative and conditions
// valid.
func NewStatusStrategy() registry.Strategy { return rules().StatusStrategy() }

// PrepareForCreate clears status, sets generation 1 and strips the v1beta1
// selector key.
func (s strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	s.Strategy.PrepareForCreate(ctx, obj)
	stripV1beta1Label(regutil.Cast[*policyv1.PodDisruptionBudget](obj), nil)
}

// Validate checks a new budget.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateSpec(&regutil.Cast[*policyv1.PodDisruptionBudget](obj).Spec, false, field.NewPath("spec"))
}

// PrepareForUpdate keeps the status, bumps the generation on a spec change
// and strips the v1beta1 selector key from a changed selector.
func (s strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	s.Strategy.PrepareForUpdate(ctx, obj, old)
	stripV1beta1Label(regutil.Cast[*policyv1.PodDisruptionBudget](obj), regutil.Cast[*policyv1.PodDisruptionBudget](old))
}

// ValidateUpdate checks the budget; a stored selector with label values
// that are no longer valid may stay.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pdb, oldPDB := regutil.Cast[*policyv1.PodDisruptionBudget](obj), regutil.Cast[*policyv1.PodDisruptionBudget](old)
	tolerate := oldPDB.Spec.Selector != nil &&
		len(metav1validation.ValidateLabelSelector(oldPDB.Spec.Selector, metav1validation.LabelSelectorValidationOptions{}, nil)) > 0
	return validateSpec(&pdb.Spec, tolerate, field.NewPath("spec"))
}

// stripV1beta1Label removes requirements on v1beta1Label from a new or
// changed selector, unless the selector is exactly one of the two that
// mean "all pods" ({}) and "no pods" ({v1beta1Label Exists}) in policy/v1.
func stripV1beta1Label(pdb, old *policyv1.PodDisruptionBudget) {
	sel := pdb.Spec.Selector
	if sel == nil || old != nil && apiequality.Semantic.DeepEqual(old.Spec.Selector, sel) {
		return
	}
	matchNone := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: v1beta1Label, Operator: metav1.LabelSelectorOpExists}}}
	if apiequality.Semantic.DeepEqual(sel, &metav1.LabelSelector{}) || apiequality.Semantic.DeepEqual(sel, matchNone) {
		return
	}
	sel.MatchExpressions = slices.DeleteFunc(sel.MatchExpressions, func(r metav1.LabelSelectorRequirement) bool { return r.Key == v1beta1Label })
}

var unhealthyPodEvictionPolicies = []policyv1.UnhealthyPodEvictionPolicyType{policyv1.AlwaysAllow, policyv1.IfHealthyBudget}

// validateSpec is upstream's ValidatePodDisruptionBudgetSpec.
func validateSpec(spec *policyv1.PodDisruptionBudgetSpec, invalidLabelValues bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(fldPath, *spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	if v := spec.MinAvailable; v != nil {
		errs = append(errs, apps.ValidatePositiveIntOrPercent(*v, fldPath.Child("minAvailable"))...)
		errs = append(errs, apps.IsNotMoreThan100Percent(*v, fldPath.Child("minAvailable"))...)
	}
	if v := spec.MaxUnavailable; v != nil {
		errs = append(errs, apps.ValidatePositiveIntOrPercent(*v, fldPath.Child("maxUnavailable"))...)
		errs = append(errs, apps.IsNotMoreThan100Percent(*v, fldPath.Child("maxUnavailable"))...)
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector,
		metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: invalidLabelValues}, fldPath.Child("selector"))...)
	if p := spec.UnhealthyPodEvictionPolicy; p != nil && !slices.Contains(unhealthyPodEvictionPolicies, *p) {
		errs = append(errs, field.NotSupported(fldPath.Child("unhealthyPodEvictionPolicy"), *p, unhealthyPodEvictionPolicies))
	}
	return errs
}

// validateStatus is upstream's ValidatePodDisruptionBudgetStatusUpdate for
// policy/v1.
func validateStatus(pdb, _ *policyv1.PodDisruptionBudget) field.ErrorList {
	s, p := &pdb.Status, field.NewPath("status")
	errs := metav1validation.ValidateConditions(s.Conditions, p.Child("conditions"))
	for _, c := range []struct {
		v    int32
		name string
	}{{s.DisruptionsAllowed, "disruptionsAllowed"}, {s.CurrentHealthy, "currentHealthy"}, {s.DesiredHealthy, "desiredHealthy"}, {s.ExpectedPods, "expectedPods"}} {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(c.v), p.Child(c.name))...)
	}
	return errs
}
