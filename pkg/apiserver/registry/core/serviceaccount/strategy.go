package serviceaccount

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to serviceaccounts.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate keeps only the name of each secret reference, as
// upstream's cleanSecretReferences does.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	cleanSecretReferences(regutil.Cast[*corev1.ServiceAccount](obj))
}

// Validate has nothing kind-specific to check beyond the generic metadata.
func (strategy) Validate(context.Context, runtime.Object) field.ErrorList { return nil }

// PrepareForUpdate applies the same cleanup as create.
func (strategy) PrepareForUpdate(_ context.Context, obj, _ runtime.Object) {
	cleanSecretReferences(regutil.Cast[*corev1.ServiceAccount](obj))
}

// ValidateUpdate has nothing kind-specific to check.
func (strategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

// GetAttrs returns a service account's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	sa, err := regutil.AttrsOf[*corev1.ServiceAccount](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(sa.Labels), regutil.MetaFields(&sa.ObjectMeta, true, nil), nil
}

func cleanSecretReferences(sa *corev1.ServiceAccount) {
	for i, s := range sa.Secrets {
		sa.Secrets[i] = corev1.ObjectReference{Name: s.Name}
	}
}

var _ registry.AttrFunc = GetAttrs
