package rolebinding

import (
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
)

var roleKinds = []string{"Role", "ClusterRole"}

// NewStrategy returns the strategy for writes to rolebindings: the rbac/v1
// defaults are applied, roleRef and subjects checked, and roleRef may not
// change. Names follow rbac.NameFunc.
func NewStrategy() registry.Strategy {
	return generic.Rules[*rbacv1.RoleBinding]{
		Default: func(b *rbacv1.RoleBinding) { rbac.SetDefaults(&b.RoleRef, b.Subjects) },
		Validate: func(b *rbacv1.RoleBinding) field.ErrorList {
			return append(rbac.ValidateRoleRef(b.RoleRef, roleKinds), rbac.ValidateSubjects(b.Subjects, true)...)
		},
		ValidateUpdate: func(b, old *rbacv1.RoleBinding) field.ErrorList {
			return rbac.ValidateRoleRefUpdate(b.RoleRef, old.RoleRef)
		},
	}.Strategy()
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
