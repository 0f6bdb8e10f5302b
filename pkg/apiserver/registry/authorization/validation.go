package authorization

import (
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateSubjectAccessReviewSpec checks a SubjectAccessReview's (or
// LocalSubjectAccessReview's) spec as upstream: exactly one of
// resourceAttributes and nonResourceAttributes, a user or a group, and
// well-formed selectors.
func ValidateSubjectAccessReviewSpec(spec *authorizationv1.SubjectAccessReviewSpec, fldPath *field.Path) field.ErrorList {
	errs := validateAttributesUnion(spec.ResourceAttributes, spec.NonResourceAttributes, fldPath)
	if spec.User == "" && len(spec.Groups) == 0 {
		errs = append(errs, field.Invalid(fldPath.Child("user"), spec.User, "at least one of user or group must be specified"))
	}
	return append(errs, validateResourceAttributes(spec.ResourceAttributes, fldPath.Child("resourceAttributes"))...)
}

// ValidateSelfSubjectAccessReviewSpec checks a SelfSubjectAccessReview's
// spec: exactly one of resourceAttributes and nonResourceAttributes, and
// well-formed selectors.
func ValidateSelfSubjectAccessReviewSpec(spec *authorizationv1.SelfSubjectAccessReviewSpec, fldPath *field.Path) field.ErrorList {
	errs := validateAttributesUnion(spec.ResourceAttributes, spec.NonResourceAttributes, fldPath)
	return append(errs, validateResourceAttributes(spec.ResourceAttributes, fldPath.Child("resourceAttributes"))...)
}

// ValidateEmptyMeta checks that a review's metadata is empty but for its
// managed fields (and its namespace when namespaced, for a
// LocalSubjectAccessReview), as upstream.
func ValidateEmptyMeta(meta *metav1.ObjectMeta, namespaced bool) field.ErrorList {
	m := *meta
	m.ManagedFields = nil
	msg := "must be empty"
	if namespaced {
		m.Namespace = ""
		msg = "must be empty except for namespace"
	}
	if !apiequality.Semantic.DeepEqual(metav1.ObjectMeta{}, m) {
		return field.ErrorList{field.Invalid(field.NewPath("metadata"), *meta, msg)}
	}
	return nil
}

func validateAttributesUnion(ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes, fldPath *field.Path) field.ErrorList {
	if (ra == nil) == (nra == nil) {
		return field.ErrorList{field.Invalid(fldPath, nra, "exactly one of nonResourceAttributes or resourceAttributes must be specified")}
	}
	return nil
}

// validateResourceAttributes checks the selectors of ra; unknown operators
// are allowed (a newer client may know more), as upstream.
func validateResourceAttributes(ra *authorizationv1.ResourceAttributes, fldPath *field.Path) field.ErrorList {
	if ra == nil {
		return nil
	}
	var errs field.ErrorList
	if s := ra.FieldSelector; s != nil {
		p := fldPath.Child("fieldSelector")
		errs = append(errs, validateSelectorForm(s.RawSelector, len(s.Requirements), p)...)
		opts := metav1validation.FieldSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}
		for i, r := range s.Requirements {
			errs = append(errs, metav1validation.ValidateFieldSelectorRequirement(r, opts, p.Child("requirements").Index(i))...)
		}
	}
	if s := ra.LabelSelector; s != nil {
		p := fldPath.Child("labelSelector")
		errs = append(errs, validateSelectorForm(s.RawSelector, len(s.Requirements), p)...)
		opts := metav1validation.LabelSelectorValidationOptions{AllowUnknownOperatorInRequirement: true}
		for i, r := range s.Requirements {
			errs = append(errs, metav1validation.ValidateLabelSelectorRequirement(r, opts, p.Child("requirements").Index(i))...)
		}
	}
	return errs
}

// validateSelectorForm checks that a selector is given either raw or as
// requirements, not both and not neither.
func validateSelectorForm(raw string, requirements int, fldPath *field.Path) field.ErrorList {
	switch {
	case raw != "" && requirements > 0:
		return field.ErrorList{field.Invalid(fldPath.Child("rawSelector"), raw, "may not specified at the same time as requirements")}
	case raw == "" && requirements == 0:
		return field.ErrorList{field.Required(fldPath.Child("requirements"), fmt.Sprintf("when %s is specified, requirements or rawSelector is required", fldPath))}
	}
	return nil
}
