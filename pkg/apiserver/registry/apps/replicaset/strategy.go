package replicaset

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
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

func rules() generic.Rules[*appsv1.ReplicaSet] {
	return generic.Rules[*appsv1.ReplicaSet]{
		Default:  SetDefaults,
		Validate: func(rs *appsv1.ReplicaSet) field.ErrorList { return validateSpec(&rs.Spec, field.NewPath("spec")) },
		ValidateUpdate: func(rs, old *appsv1.ReplicaSet) field.ErrorList {
			return apps.ValidateSelectorImmutable(rs.Spec.Selector, old.Spec.Selector)
		},
		SpecStatus:     true,
		ValidateStatus: validateStatus,
	}
}

// NewStrategy returns the strategy for writes to replicasets.
func NewStrategy() registry.Strategy { return rules().Strategy() }

// NewStatusStrategy returns the strategy for replicasets/status: spec and
// generation are kept.
func NewStatusStrategy() registry.Strategy { return rules().StatusStrategy() }

// SetDefaults applies SetDefaults_ReplicaSet and the pod template defaults.
func SetDefaults(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To[int32](1)
	}
	podspec.SetDefaultsPodTemplateSpec(&rs.Spec.Template)
}

func validateStatus(rs, _ *appsv1.ReplicaSet) field.ErrorList {
	s, p := &rs.Status, field.NewPath("status")
	errs := apps.ValidateStatusCounts(s.Replicas, []apps.Counter{
		{Name: "fullyLabeledReplicas", Value: s.FullyLabeledReplicas}, {Name: "readyReplicas", Value: s.ReadyReplicas},
		{Name: "availableReplicas", Value: s.AvailableReplicas},
	}, p)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(s.ObservedGeneration, p.Child("observedGeneration"))...)
	if s.AvailableReplicas > s.ReadyReplicas {
		errs = append(errs, field.Invalid(p.Child("availableReplicas"), s.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}

// GetAttrs returns a replicaset's labels and fields metadata.name,
// metadata.namespace and status.replicas.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	rs, err := regutil.AttrsOf[*appsv1.ReplicaSet](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(rs.Labels), regutil.MetaFields(&rs.ObjectMeta, true, fields.Set{
		"status.replicas": strconv.Itoa(int(rs.Status.Replicas)),
	}), nil
}

func validateSpec(spec *appsv1.ReplicaSetSpec, fldPath *field.Path) field.ErrorList {
	errs := apimachineryvalidation.ValidateNonnegativeField(int64(ptr.Deref(spec.Replicas, 0)), fldPath.Child("replicas"))
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	selector, selErrs := apps.ValidateSelector(spec.Selector, "deployment", fldPath.Child("selector"))
	errs = append(errs, selErrs...)
	if selector != nil {
		errs = append(errs, apps.ValidateTemplate(&spec.Template, selector, "ReplicaSet", fldPath.Child("template"), podspec.Options{})...)
	}
	return errs
}

var _ registry.AttrFunc = GetAttrs
