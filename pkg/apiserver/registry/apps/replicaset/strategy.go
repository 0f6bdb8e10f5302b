package replicaset

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
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
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to replicasets.
func NewStrategy() registry.Strategy { return strategy{} }

// SetDefaults applies SetDefaults_ReplicaSet and the pod template defaults.
func SetDefaults(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To[int32](1)
	}
	podspec.SetDefaultsPodTemplateSpec(&rs.Spec.Template)
}

// PrepareForCreate clears status, sets generation 1 and applies defaults.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	rs := regutil.Cast[*appsv1.ReplicaSet](obj)
	rs.Status = appsv1.ReplicaSetStatus{}
	rs.Generation = 1
	SetDefaults(rs)
}

// Validate validates a new replicaset.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateSpec(&regutil.Cast[*appsv1.ReplicaSet](obj).Spec, field.NewPath("spec"))
}

// PrepareForUpdate keeps the stored status and bumps the generation on a
// spec change.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	rs, oldRS := regutil.Cast[*appsv1.ReplicaSet](obj), regutil.Cast[*appsv1.ReplicaSet](old)
	rs.Status = oldRS.Status
	SetDefaults(rs)
	regutil.BumpGeneration(&rs.ObjectMeta, &oldRS.ObjectMeta, !apiequality.Semantic.DeepEqual(rs.Spec, oldRS.Spec))
}

// ValidateUpdate validates the new replicaset; the selector is immutable.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	rs, oldRS := regutil.Cast[*appsv1.ReplicaSet](obj), regutil.Cast[*appsv1.ReplicaSet](old)
	errs := validateSpec(&rs.Spec, field.NewPath("spec"))
	return append(errs, apps.ValidateSelectorImmutable(rs.Spec.Selector, oldRS.Spec.Selector)...)
}

type statusStrategy struct{ strategy }

// NewStatusStrategy returns the strategy for replicasets/status: spec and
// generation are kept.
func NewStatusStrategy() registry.Strategy { return statusStrategy{} }

func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	rs, oldRS := regutil.Cast[*appsv1.ReplicaSet](obj), regutil.Cast[*appsv1.ReplicaSet](old)
	rs.Spec = oldRS.Spec
	rs.Generation = oldRS.Generation
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	s, p := &regutil.Cast[*appsv1.ReplicaSet](obj).Status, field.NewPath("status")
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
