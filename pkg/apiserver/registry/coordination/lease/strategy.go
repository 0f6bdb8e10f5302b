package lease

import (
	"context"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

// oldestEmulationVersion is the only Kubernetes-defined lease strategy.
const oldestEmulationVersion = coordinationv1.CoordinatedLeaseStrategy("OldestEmulationVersion")

type strategy struct{}

// NewStrategy returns the strategy for writes to leases.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate has nothing to normalize: leases have no status.
func (strategy) PrepareForCreate(context.Context, runtime.Object) {}

// Validate validates a lease's spec.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateSpec(&regutil.Cast[*coordinationv1.Lease](obj).Spec, field.NewPath("spec"))
}

// PrepareForUpdate has nothing to normalize.
func (strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

// ValidateUpdate validates the new spec; every field may change.
func (strategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return validateSpec(&regutil.Cast[*coordinationv1.Lease](obj).Spec, field.NewPath("spec"))
}

// GetAttrs returns a lease's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	l, err := regutil.AttrsOf[*coordinationv1.Lease](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(l.Labels), regutil.MetaFields(&l.ObjectMeta, true, nil), nil
}

func validateSpec(spec *coordinationv1.LeaseSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if d := spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, field.Invalid(fldPath.Child("leaseDurationSeconds"), d, "must be greater than 0"))
	}
	if t := spec.LeaseTransitions; t != nil && *t < 0 {
		errs = append(errs, field.Invalid(fldPath.Child("leaseTransitions"), t, "must be greater than or equal to 0"))
	}
	if s := spec.Strategy; s != nil {
		p := fldPath.Child("strategy").Child("strategy")
		if !strings.Contains(string(*s), "/") {
			if *s != oldestEmulationVersion {
				errs = append(errs, field.NotSupported(p, *s, []coordinationv1.CoordinatedLeaseStrategy{oldestEmulationVersion}))
			}
		} else {
			for _, msg := range validation.IsQualifiedName(string(*s)) {
				errs = append(errs, field.Invalid(p, *s, msg))
			}
		}
	}
	if h := spec.PreferredHolder; h != nil && *h != "" && (spec.Strategy == nil || *spec.Strategy == "") {
		errs = append(errs, field.Forbidden(fldPath.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}

var _ registry.AttrFunc = GetAttrs
