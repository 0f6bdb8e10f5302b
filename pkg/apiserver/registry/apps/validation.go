package apps

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
)

// ValidateSelector requires a valid, non-empty selector at fldPath; an empty
// one is "empty selector is invalid for <kind>" (upstream reuses
// "deployment" for ReplicaSets). It returns the parsed selector, or nil
// when it does not parse.
func ValidateSelector(sel *metav1.LabelSelector, kind string, fldPath *field.Path) (labels.Selector, field.ErrorList) {
	var errs field.ErrorList
	if sel == nil {
		errs = append(errs, field.Required(fldPath, ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, fldPath)...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(fldPath, sel, "empty selector is invalid for "+kind))
		}
	}
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, append(errs, field.Invalid(fldPath, sel, "invalid label selector"))
	}
	return selector, errs
}

// ValidateTemplate validates a controller's pod template at fldPath
// (spec.template): its labels must match selector (when selector is
// non-empty), it must be a valid pod template with restartPolicy Always and
// no activeDeadlineSeconds (kind names the controller in that message).
func ValidateTemplate(t *corev1.PodTemplateSpec, selector labels.Selector, kind string, fldPath *field.Path, opts podspec.Options) field.ErrorList {
	var errs field.ErrorList
	if selector != nil && !selector.Empty() && !selector.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(fldPath.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, podspec.ValidatePodTemplateSpec(t, fldPath, opts)...)
	return append(errs, ValidateAlwaysRestart(t, kind, fldPath)...)
}

// ValidateAlwaysRestart requires restartPolicy Always and no
// activeDeadlineSeconds in a long-running controller's template.
func ValidateAlwaysRestart(t *corev1.PodTemplateSpec, kind string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(fldPath.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("spec", "activeDeadlineSeconds"), fmt.Sprintf("activeDeadlineSeconds in %s is not Supported", kind)))
	}
	return errs
}

// ValidateSelectorImmutable reports a changed selector ("field is immutable").
func ValidateSelectorImmutable(sel, oldSel *metav1.LabelSelector) field.ErrorList {
	return apimachineryvalidation.ValidateImmutableField(sel, oldSel, field.NewPath("spec", "selector"))
}

// ValidatePositiveIntOrPercent accepts a non-negative integer or a
// percentage string.
func ValidatePositiveIntOrPercent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(fldPath, v, msg))
		}
	case intstr.Int:
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(v.IntValue()), fldPath)...)
	default:
		errs = append(errs, field.Invalid(fldPath, v, "must be an integer or percentage (e.g '5%%')"))
	}
	return errs
}

// IsNotMoreThan100Percent rejects a percentage above 100%.
func IsNotMoreThan100Percent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	if p, ok := percent(v); ok && p > 100 {
		return field.ErrorList{field.Invalid(fldPath, v, "must not be greater than 100%")}
	}
	return nil
}

// IntOrPercentValue returns the number in v (the percentage for a string).
func IntOrPercentValue(v intstr.IntOrString) int {
	if p, ok := percent(v); ok {
		return p
	}
	return v.IntValue()
}

func percent(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

// Counter names one replica count of a status, for ValidateStatusCounts.
type Counter struct {
	Name  string
	Value int32
}

// ValidateStatusCounts checks that counts are non-negative and none exceeds
// status.replicas (upstream's "cannot be greater than status.replicas").
func ValidateStatusCounts(replicas int32, counts []Counter, fldPath *field.Path) field.ErrorList {
	errs := apimachineryvalidation.ValidateNonnegativeField(int64(replicas), fldPath.Child("replicas"))
	for _, c := range counts {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(c.Value), fldPath.Child(c.Name))...)
		if c.Value > replicas {
			errs = append(errs, field.Invalid(fldPath.Child(c.Name), c.Value, "cannot be greater than status.replicas"))
		}
	}
	return errs
}
