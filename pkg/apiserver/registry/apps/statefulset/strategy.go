package statefulset

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/apps"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

func rules() generic.Rules[*appsv1.StatefulSet] {
	return generic.Rules[*appsv1.StatefulSet]{
		Default:        SetDefaults,
		Validate:       func(ss *appsv1.StatefulSet) field.ErrorList { return validateSpec(&ss.Spec, field.NewPath("spec")) },
		ValidateUpdate: validateSpecUpdate,
		SpecStatus:     true,
		ValidateStatus: validateStatus,
	}
}

// NewStrategy returns the strategy for writes to statefulsets.
func NewStrategy() registry.Strategy { return rules().Strategy() }

// NewStatusStrategy returns the strategy for statefulsets/status: spec and
// generation are kept.
func NewStatusStrategy() registry.Strategy { return rules().StatusStrategy() }

// SetDefaults applies SetDefaults_StatefulSet, the pod template defaults and
// the defaults of the volume claim templates.
func SetDefaults(ss *appsv1.StatefulSet) {
	spec := &ss.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := spec.UpdateStrategy.RollingUpdate; spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru != nil && ru.Partition == nil {
		ru.Partition = ptr.To[int32](0)
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.Replicas == nil {
		spec.Replicas = ptr.To[int32](1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	podspec.SetDefaultsPodTemplateSpec(&spec.Template)
	for i := range spec.VolumeClaimTemplates {
		pvc := &spec.VolumeClaimTemplates[i]
		if pvc.Spec.VolumeMode == nil {
			pvc.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
		}
		if pvc.Status.Phase == "" {
			pvc.Status.Phase = corev1.ClaimPending
		}
	}
}

// NameFunc is the rule for statefulset names (a DNS label: pods are named
// after them), for the store's metadata.name check.
func NameFunc(name string, prefix bool) []string {
	return apimachineryvalidation.NameIsDNSLabel(name, prefix)
}

// validateSpecUpdate checks that only replicas, ordinals, template,
// updateStrategy, persistentVolumeClaimRetentionPolicy and minReadySeconds
// changed.
func validateSpecUpdate(ss, oldSS *appsv1.StatefulSet) field.ErrorList {
	clone := ss.Spec.DeepCopy()
	clone.Replicas = oldSS.Spec.Replicas
	clone.Template = oldSS.Spec.Template
	clone.UpdateStrategy = oldSS.Spec.UpdateStrategy
	clone.MinReadySeconds = oldSS.Spec.MinReadySeconds
	clone.Ordinals = oldSS.Spec.Ordinals
	clone.PersistentVolumeClaimRetentionPolicy = oldSS.Spec.PersistentVolumeClaimRetentionPolicy
	if !apiequality.Semantic.DeepEqual(*clone, oldSS.Spec) {
		return field.ErrorList{field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")}
	}
	return nil
}

func validateStatus(ss, oldSS *appsv1.StatefulSet) field.ErrorList {
	s, p := &ss.Status, field.NewPath("status")
	errs := apps.ValidateStatusCounts(s.Replicas, []apps.Counter{
		{Name: "readyReplicas", Value: s.ReadyReplicas}, {Name: "currentReplicas", Value: s.CurrentReplicas},
		{Name: "updatedReplicas", Value: s.UpdatedReplicas}, {Name: "availableReplicas", Value: s.AvailableReplicas},
	}, p)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(s.ObservedGeneration, p.Child("observedGeneration"))...)
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than status.readyReplicas"))
	}
	if oldC := oldSS.Status.CollisionCount; oldC != nil && (s.CollisionCount == nil || *s.CollisionCount < *oldC) {
		errs = append(errs, field.Invalid(p.Child("collisionCount"), ptr.Deref(s.CollisionCount, 0), "cannot be decremented"))
	}
	return errs
}

// GetAttrs returns a statefulset's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ss, err := regutil.AttrsOf[*appsv1.StatefulSet](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(ss.Labels), regutil.MetaFields(&ss.ObjectMeta, true, nil), nil
}

func validateSpec(spec *appsv1.StatefulSetSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(fldPath.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(fldPath.Child("podManagementPolicy"), spec.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}
	errs = append(errs, validateUpdateStrategy(&spec.UpdateStrategy, fldPath.Child("updateStrategy"))...)
	if p := spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		rp := fldPath.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, validateRetention(p.WhenDeleted, rp.Child("whenDeleted"))...)
		errs = append(errs, validateRetention(p.WhenScaled, rp.Child("whenScaled"))...)
	}
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(ptr.Deref(spec.Replicas, 0)), fldPath.Child("replicas"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.Ordinals.Start), fldPath.Child("ordinals.start"))...)
	}
	selector, selErrs := apps.ValidateSelector(spec.Selector, "statefulset", fldPath.Child("selector"))
	errs = append(errs, selErrs...)
	var claims []string
	for _, t := range spec.VolumeClaimTemplates {
		claims = append(claims, t.Name)
	}
	if selector != nil {
		errs = append(errs, apps.ValidateTemplate(&spec.Template, selector, "StatefulSet", fldPath.Child("template"), podspec.Options{ClaimTemplates: claims})...)
	}
	return errs
}

func validateUpdateStrategy(s *appsv1.StatefulSetUpdateStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case "":
		return field.ErrorList{field.Required(fldPath, "")}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(fldPath.Child("rollingUpdate"), s.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType))}
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		ru := s.RollingUpdate
		if ru == nil {
			return nil
		}
		p := fldPath.Child("rollingUpdate")
		errs := apimachineryvalidation.ValidateNonnegativeField(int64(ptr.Deref(ru.Partition, 0)), p.Child("partition"))
		if mu := ru.MaxUnavailable; mu != nil {
			errs = append(errs, apps.ValidatePositiveIntOrPercent(*mu, p.Child("maxUnavailable"))...)
			if apps.IntOrPercentValue(*mu) == 0 {
				errs = append(errs, field.Invalid(p.Child("maxUnavailable"), *mu, "cannot be 0"))
			}
			errs = append(errs, apps.IsNotMoreThan100Percent(*mu, p.Child("maxUnavailable"))...)
		}
		return errs
	default:
		return field.ErrorList{field.Invalid(fldPath, *s, fmt.Sprintf("must be '%s' or '%s'",
			appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType))}
	}
	return nil
}

func validateRetention(t appsv1.PersistentVolumeClaimRetentionPolicyType, fldPath *field.Path) field.ErrorList {
	switch t {
	case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath, t, []string{string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType), string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType)})}
}

var _ registry.AttrFunc = GetAttrs
