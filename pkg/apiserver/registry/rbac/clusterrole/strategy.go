package clusterrole

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
)

// NewStrategy returns the strategy for writes to clusterroles: the rules and
// the aggregation rule are checked. Names follow rbac.NameFunc.
func NewStrategy() registry.Strategy {
	return generic.Rules[*rbacv1.ClusterRole]{Validate: validate}.Strategy()
}

// GetAttrs returns a cluster role's labels and its metadata.name field.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	r, err := regutil.AttrsOf[*rbacv1.ClusterRole](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(r.Labels), regutil.MetaFields(&r.ObjectMeta, false, nil), nil
}

func validate(r *rbacv1.ClusterRole) field.ErrorList {
	errs := rbac.ValidateRules(r.Rules, false, field.NewPath("rules"))
	if r.AggregationRule == nil {
		return errs
	}
	p := field.NewPath("aggregationRule", "clusterRoleSelectors")
	if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
		errs = append(errs, field.Required(p, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
	}
	for i := range r.AggregationRule.ClusterRoleSelectors {
		sel := &r.AggregationRule.ClusterRoleSelectors[i]
		errs = append(errs, metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p.Index(i))...)
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(p.Index(i), sel, "invalid label selector."))
		}
	}
	return errs
}

var _ registry.AttrFunc = GetAttrs
