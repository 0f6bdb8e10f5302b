package role

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to roles.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate has nothing to normalize.
func (strategy) PrepareForCreate(context.Context, runtime.Object) {}

// Validate checks the rules. Names follow rbac.NameFunc.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return rbac.ValidateRules(regutil.Cast[*rbacv1.Role](obj).Rules, true, field.NewPath("rules"))
}

// PrepareForUpdate has nothing to normalize.
func (strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

// ValidateUpdate checks the rules.
func (strategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return rbac.ValidateRules(regutil.Cast[*rbacv1.Role](obj).Rules, true, field.NewPath("rules"))
}

// GetAttrs returns a role's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	r, err := regutil.AttrsOf[*rbacv1.Role](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(r.Labels), regutil.MetaFields(&r.ObjectMeta, true, nil), nil
}

var _ registry.AttrFunc = GetAttrs
