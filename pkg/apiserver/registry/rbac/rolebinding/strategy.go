package rolebinding

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

var roleKinds = []string{"Role", "ClusterRole"}

type strategy struct{}

// NewStrategy returns the strategy for writes to rolebindings.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate applies the rbac/v1 defaults.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	b := regutil.Cast[*rbacv1.RoleBinding](obj)
	rbac.SetDefaults(&b.RoleRef, b.Subjects)
}

// Validate checks roleRef and subjects. Names follow rbac.NameFunc.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	b := regutil.Cast[*rbacv1.RoleBinding](obj)
	errs := rbac.ValidateRoleRef(b.RoleRef, roleKinds)
	return append(errs, rbac.ValidateSubjects(b.Subjects, true)...)
}

// PrepareForUpdate applies the rbac/v1 defaults.
func (s strategy) PrepareForUpdate(ctx context.Context, obj, _ runtime.Object) {
	s.PrepareForCreate(ctx, obj)
}

// ValidateUpdate checks roleRef and subjects; roleRef may not change.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	b, o := regutil.Cast[*rbacv1.RoleBinding](obj), regutil.Cast[*rbacv1.RoleBinding](old)
	errs := rbac.ValidateRoleRef(b.RoleRef, roleKinds)
	errs = append(errs, rbac.ValidateSubjects(b.Subjects, true)...)
	return append(errs, rbac.ValidateRoleRefUpdate(b.RoleRef, o.RoleRef)...)
}

// GetAttrs returns a role binding's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	b, err := regutil.AttrsOf[*rbacv1.RoleBinding](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(b.Labels), regutil.MetaFields(&b.ObjectMeta, true, nil), nil
}

var _ registry.AttrFunc = GetAttrs
