package daemonset

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

func rules() generic.Rules[*appsv1.DaemonSet] {
	return generic.Rules[*appsv1.DaemonSet]{
		Default:  SetDefaults,
		Validate: func(ds *appsv1.DaemonSet) field.ErrorList { return validateSpec(&ds.Spec, field.NewPath("spec")) },
		ValidateUpdate: func(ds, old *appsv1.DaemonSet) field.ErrorList {
			return apps.ValidateSelectorImmutable(ds.Spec.Selector, old.Spec.Selector)
		},
		AfterCreateDefault: func(ds *appsv1.DaemonSet) { setTemplateGeneration(ds, 1) },
		AfterUpdateDefault: func(ds, old *appsv1.DaemonSet) {
			gen := templateGeneration(old)
			if !apiequality.Semantic.DeepEqual(ds.Spec.Template, old.Spec.Template) {
				gen++
			}
			setTemplateGeneration(ds, gen)
		},
		SpecStatus:         true,
		KeepOnStatusUpdate: func(ds, old *appsv1.DaemonSet) { setTemplateGeneration(ds, templateGeneration(old)) },
		ValidateStatus:     validateStatus,
	}
}

// templateGeneration returns the daemonset's template generation: 1 on
// create, one more at each template change, kept by the apiserver in the
// deprecated.daemonset.template.generation annotation as upstream's
// conversion of the internal spec.templateGeneration does (the
// daemonset controller labels pods with it); 0 when absent or not a number.
func templateGeneration(ds *appsv1.DaemonSet) int64 {
	gen, err := strconv.ParseInt(ds.Annotations[appsv1.DeprecatedTemplateGeneration], 10, 64)
	if err != nil {
		return 0
	}
	return gen
}

// setTemplateGeneration records gen in ds's annotation, whatever the
// client sent there.
func setTemplateGeneration(ds *appsv1.DaemonSet, gen int64) {
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[appsv1.DeprecatedTemplateGeneration] = strconv.FormatInt(gen, 10)
}

// NewStrategy returns the strategy for writes to daemonsets.
func NewStrategy() registry.Strategy { return rules().Strategy() }

// NewStatusStrategy returns the strategy for daemonsets/status: spec and
// generation are kept.
func NewStatusStrategy() registry.Strategy { return rules().StatusStrategy() }

// SetDefaults applies SetDefaults_DaemonSet and the pod template defaults.
func SetDefaults(ds *appsv1.DaemonSet) {
	u := &ds.Spec.UpdateStrategy
	if u.Type == "" {
		u.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if u.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if u.RollingUpdate == nil {
			u.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if u.RollingUpdate.MaxUnavailable == nil {
			u.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
		if u.RollingUpdate.MaxSurge == nil {
			u.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	podspec.SetDefaultsPodTemplateSpec(&ds.Spec.Template)
}

func validateStatus(ds, _ *appsv1.DaemonSet) field.ErrorList {
	s, p := &ds.Status, field.NewPath("status")
	var errs field.ErrorList
	for _, c := range []apps.Counter{
		{Name: "currentNumberScheduled", Value: s.CurrentNumberScheduled}, {Name: "numberMisscheduled", Value: s.NumberMisscheduled},
		{Name: "desiredNumberScheduled", Value: s.DesiredNumberScheduled}, {Name: "numberReady", Value: s.NumberReady},
		{Name: "updatedNumberScheduled", Value: s.UpdatedNumberScheduled}, {Name: "numberAvailable", Value: s.NumberAvailable},
		{Name: "numberUnavailable", Value: s.NumberUnavailable},
	} {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(c.Value), p.Child(c.Name))...)
	}
	return append(errs, apimachineryvalidation.ValidateNonnegativeField(s.ObservedGeneration, p.Child("observedGeneration"))...)
}

// GetAttrs returns a daemonset's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ds, err := regutil.AttrsOf[*appsv1.DaemonSet](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(ds.Labels), regutil.MetaFields(&ds.ObjectMeta, true, nil), nil
}

// validateSpec follows upstream's ValidateDaemonSetSpec, which (unlike the
// other controllers) reports a missing selector only as a template mismatch.
func validateSpec(spec *appsv1.DaemonSetSpec, fldPath *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))
	if selector, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !selector.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(fldPath.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	if spec.Selector != nil && len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(fldPath.Child("selector"), spec.Selector, "empty selector is invalid for daemonset"))
	}
	errs = append(errs, podspec.ValidatePodTemplateSpec(&spec.Template, fldPath.Child("template"), podspec.Options{})...)
	errs = append(errs, apps.ValidateAlwaysRestart(&spec.Template, "DaemonSet", fldPath.Child("template"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	errs = append(errs, validateUpdateStrategy(&spec.UpdateStrategy, fldPath.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	return errs
}

func validateUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		ru := s.RollingUpdate
		if ru == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "")}
		}
		p := fldPath.Child("rollingUpdate")
		mu := ptr.Deref(ru.MaxUnavailable, intstr.FromInt32(0))
		ms := ptr.Deref(ru.MaxSurge, intstr.FromInt32(0))
		errs := apps.ValidatePositiveIntOrPercent(mu, p.Child("maxUnavailable"))
		errs = append(errs, apps.ValidatePositiveIntOrPercent(ms, p.Child("maxSurge"))...)
		errs = append(errs, apps.IsNotMoreThan100Percent(mu, p.Child("maxUnavailable"))...)
		errs = append(errs, apps.IsNotMoreThan100Percent(ms, p.Child("maxSurge"))...)
		hasU, hasS := apps.IntOrPercentValue(mu) != 0, apps.IntOrPercentValue(ms) != 0
		switch {
		case hasU && hasS:
			errs = append(errs, field.Invalid(p.Child("maxSurge"), ms, "may not be set when maxUnavailable is non-zero"))
		case !hasU && !hasS:
			errs = append(errs, field.Required(p.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
		return errs
	default:
		return field.ErrorList{field.NotSupported(fldPath, *s, []string{string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType)})}
	}
}

var _ registry.AttrFunc = GetAttrs
