package clusterrolebinding

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

var roleKinds = []string{"ClusterRole"}

// NewStrategy returns the strategy for writes to clusterrolebindings: the rbac/v1
// defaults are applied, roleRef and subjects checked, and roleRef may not
// change. Names follow rbac.NameFunc.
func NewStrategy() registry.Strategy {
	return generic.Rules[*rbacv1.ClusterRoleBinding]{
		Default: func(b *rbacv1.ClusterRoleBinding) { rbac.SetDefaults(&b.RoleRef, b.Subjects) },
		Validate: func(b *rbacv1.ClusterRoleBinding) field.ErrorList {
			return append(rbac.ValidateRoleRef(b.RoleRef, roleKinds), rbac.ValidateSubjects(b.Subjects, false)...)
		},
		ValidateUpdate: func(b, old *rbacv1.ClusterRoleBinding) field.ErrorList {
			return rbac.ValidateRoleRefUpdate(b.RoleRef, old.RoleRef)
		},
	}.Strategy()
}

// GetAttrs returns a cluster role binding's labels and metadata.name field.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	b, err := regutil.AttrsOf[*rbacv1.ClusterRoleBinding](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(b.Labels), regutil.MetaFields(&b.ObjectMeta, false, nil), nil
}

var _ registry.AttrFunc = GetAttrs
