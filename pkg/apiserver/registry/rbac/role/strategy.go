package role

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

// NewStrategy returns the strategy for writes to roles: the rules are
// checked. Names follow rbac.NameFunc.
func NewStrategy() registry.Strategy {
	return generic.Rules[*rbacv1.Role]{
		Validate: func(r *rbacv1.Role) field.ErrorList { return rbac.ValidateRules(r.Rules, true, field.NewPath("rules")) },
	}.Strategy()
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
