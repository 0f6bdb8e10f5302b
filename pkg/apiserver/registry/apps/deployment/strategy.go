package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
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

// rules are a deployment's write rules: besides the spec, a change of the
// annotations (copied to ReplicaSets) is a new generation, and /status keeps
// the labels too.
func rules() generic.Rules[*appsv1.Deployment] {
	return generic.Rules[*appsv1.Deployment]{
		Default:  SetDefaults,
		Validate: func(d *appsv1.Deployment) field.ErrorList { return validateSpec(&d.Spec, field.NewPath("spec")) },
		ValidateUpdate: func(d, old *appsv1.Deployment) field.ErrorList {
			return apps.ValidateSelectorImmutable(d.Spec.Selector, old.Spec.Selector)
		},
		SpecStatus: true,
		GenerationChanged: func(d, old *appsv1.Deployment) bool {
			return !apiequality.Semantic.DeepEqual(d.Annotations, old.Annotations)
		},
		KeepOnStatusUpdate: func(d, old *appsv1.Deployment) { d.Labels = old.Labels },
		ValidateStatus:     validateStatus,
	}
}

// NewStrategy returns the strategy for writes to deployments.
func NewStrategy() registry.Strategy { return rules().Strategy() }

// NewStatusStrategy returns the strategy for deployments/status: spec,
// labels and generation are kept.
func NewStatusStrategy() registry.Strategy { return rules().StatusStrategy() }

// SetDefaults applies SetDefaults_Deployment and the pod template defaults.
func SetDefaults(d *appsv1.Deployment) {
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = ptr.To[int32](1)
	}
	s := &d.Spec.Strategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			s.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("25%"))
		}
		if s.RollingUpdate.MaxSurge == nil {
			s.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("25%"))
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = ptr.To[int32](600)
	}
	podspec.SetDefaultsPodTemplateSpec(&d.Spec.Template)
}

func validateStatus(d, oldD *appsv1.Deployment) field.ErrorList {
	s, p := &d.Status, field.NewPath("status")
	errs := apimachineryvalidation.ValidateNonnegativeField(s.ObservedGeneration, p.Child("observedGeneration"))
	errs = append(errs, apps.ValidateStatusCounts(s.Replicas, []apps.Counter{
		{Name: "updatedReplicas", Value: s.UpdatedReplicas}, {Name: "readyReplicas", Value: s.ReadyReplicas},
		{Name: "availableReplicas", Value: s.AvailableReplicas},
	}, p)...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(s.UnavailableReplicas), p.Child("unavailableReplicas"))...)
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	if oldC := oldD.Status.CollisionCount; oldC != nil && (s.CollisionCount == nil || *s.CollisionCount < *oldC) {
		errs = append(errs, field.Invalid(p.Child("collisionCount"), ptr.Deref(s.CollisionCount, 0), "cannot be decremented"))
	}
	return errs
}

// GetAttrs returns a deployment's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	d, err := regutil.AttrsOf[*appsv1.Deployment](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(d.Labels), regutil.MetaFields(&d.ObjectMeta, true, nil), nil
}

func validateSpec(spec *appsv1.DeploymentSpec, fldPath *field.Path) field.ErrorList {
	errs := apimachineryvalidation.ValidateNonnegativeField(int64(ptr.Deref(spec.Replicas, 0)), fldPath.Child("replicas"))
	selector, selErrs := apps.ValidateSelector(spec.Selector, "deployment", fldPath.Child("selector"))
	errs = append(errs, selErrs...)
	if selector != nil {
		errs = append(errs, apps.ValidateTemplate(&spec.Template, selector, "ReplicaSet", fldPath.Child("template"), podspec.Options{})...)
	}
	errs = append(errs, validateStrategy(&spec.Strategy, fldPath.Child("strategy"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if pds := spec.ProgressDeadlineSeconds; pds != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*pds), fldPath.Child("progressDeadlineSeconds"))...)
		if *pds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(fldPath.Child("progressDeadlineSeconds"), pds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateStrategy(s *appsv1.DeploymentStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(fldPath.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		ru := s.RollingUpdate
		if ru == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		p := fldPath.Child("rollingUpdate")
		maxUnavailable := ptr.Deref(ru.MaxUnavailable, intstr.FromInt32(0))
		maxSurge := ptr.Deref(ru.MaxSurge, intstr.FromInt32(0))
		errs := apps.ValidatePositiveIntOrPercent(maxUnavailable, p.Child("maxUnavailable"))
		errs = append(errs, apps.ValidatePositiveIntOrPercent(maxSurge, p.Child("maxSurge"))...)
		if apps.IntOrPercentValue(maxUnavailable) == 0 && apps.IntOrPercentValue(maxSurge) == 0 {
			errs = append(errs, field.Invalid(p.Child("maxUnavailable"), maxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
		return append(errs, apps.IsNotMoreThan100Percent(maxUnavailable, p.Child("maxUnavailable"))...)
	default:
		return field.ErrorList{field.NotSupported(fldPath, *s, []string{string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)})}
	}
	return nil
}

var _ registry.AttrFunc = GetAttrs
