package node

import (
	"context"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to nodes.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate keeps the given status (nodes may be created with one)
// and applies defaults.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	node := regutil.Cast[*corev1.Node](obj)
	node.Spec.ConfigSource = nil
	node.Status.Config = nil
	setDefaults(node)
}

// Validate checks taints, podCIDRs and resource quantities.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	node := regutil.Cast[*corev1.Node](obj)
	errs := validateTaints(node.Spec.Taints, field.NewPath("metadata", "taints"))
	errs = append(errs, validateResources(node)...)
	return append(errs, validatePodCIDRs(node.Spec.PodCIDRs)...)
}

// PrepareForUpdate keeps the stored status.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	node, oldNode := regutil.Cast[*corev1.Node](obj), regutil.Cast[*corev1.Node](old)
	node.Status = oldNode.Status
	setDefaults(node)
}

// ValidateUpdate allows unschedulable and taints to change; podCIDRs and
// providerID may only be set once.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	node, oldNode := regutil.Cast[*corev1.Node](obj), regutil.Cast[*corev1.Node](old)
	return validateUpdate(node, oldNode)
}

type statusStrategy struct{ strategy }

// NewStatusStrategy returns the strategy for nodes/status: the spec is kept.
func NewStatusStrategy() registry.Strategy { return statusStrategy{} }

func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	node, oldNode := regutil.Cast[*corev1.Node](obj), regutil.Cast[*corev1.Node](old)
	node.Spec = oldNode.Spec
	setDefaults(node)
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	node, oldNode := regutil.Cast[*corev1.Node](obj), regutil.Cast[*corev1.Node](old)
	return validateUpdate(node, oldNode)
}

// GetAttrs returns a node's labels and fields metadata.name and
// spec.unschedulable.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	node, err := regutil.AttrsOf[*corev1.Node](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(node.Labels), regutil.MetaFields(&node.ObjectMeta, false, fields.Set{
		"spec.unschedulable": strconv.FormatBool(node.Spec.Unschedulable),
	}), nil
}

// setDefaults applies SetDefaults_NodeStatus and keeps podCIDR and podCIDRs
// in step, as the v1 conversion does.
func setDefaults(node *corev1.Node) {
	if node.Status.Allocatable == nil && node.Status.Capacity != nil {
		node.Status.Allocatable = node.Status.Capacity.DeepCopy()
	}
	if len(node.Spec.PodCIDRs) == 0 && node.Spec.PodCIDR != "" {
		node.Spec.PodCIDRs = []string{node.Spec.PodCIDR}
	}
	if len(node.Spec.PodCIDRs) > 0 {
		node.Spec.PodCIDR = node.Spec.PodCIDRs[0]
	}
}

func validateUpdate(node, oldNode *corev1.Node) field.ErrorList {
	errs := validateResources(node)
	seen := map[corev1.NodeAddress]bool{}
	for i, a := range node.Status.Addresses {
		if seen[a] {
			errs = append(errs, field.Duplicate(field.NewPath("status", "addresses").Index(i), a))
		}
		seen[a] = true
	}
	if len(oldNode.Spec.PodCIDRs) > 0 {
		changed := len(oldNode.Spec.PodCIDRs) != len(node.Spec.PodCIDRs)
		for i := 0; !changed && i < len(oldNode.Spec.PodCIDRs); i++ {
			changed = oldNode.Spec.PodCIDRs[i] != node.Spec.PodCIDRs[i]
		}
		if changed {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
		}
	}
	if oldNode.Spec.ProviderID != "" && oldNode.Spec.ProviderID != node.Spec.ProviderID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	if node.Spec.DoNotUseExternalID != oldNode.Spec.DoNotUseExternalID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "externalID"), "may not be updated"))
	}
	errs = append(errs, validateTaints(node.Spec.Taints, field.NewPath("metadata", "taints"))...)
	return append(errs, validatePodCIDRs(node.Spec.PodCIDRs)...)
}

// validateTaints checks keys, values and effects and uniqueness by key and
// effect. The path is upstream's (metadata.taints).
func validateTaints(taints []corev1.Taint, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	unique := map[corev1.TaintEffect]sets.Set[string]{}
	for i, t := range taints {
		p := fldPath.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
		if msgs := validation.IsValidLabelValue(t.Value); len(msgs) != 0 {
			errs = append(errs, field.Invalid(p.Child("value"), t.Value, strings.Join(msgs, ";")))
		}
		errs = append(errs, podspec.ValidateTaintEffect(t.Effect, false, p.Child("effect"))...)
		if unique[t.Effect].Has(t.Key) {
			dup := field.Duplicate(p, t)
			dup.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, dup)
			continue
		}
		if unique[t.Effect] == nil {
			unique[t.Effect] = sets.New[string]()
		}
		unique[t.Effect].Insert(t.Key)
	}
	return errs
}

func validateResources(node *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	for k, v := range node.Status.Capacity {
		errs = append(errs, podspec.ValidateResourceQuantityValue(k, v, field.NewPath("status", "capacity", string(k)))...)
	}
	for k, v := range node.Status.Allocatable {
		errs = append(errs, podspec.ValidateResourceQuantityValue(k, v, field.NewPath("status", "allocatable", string(k)))...)
	}
	return errs
}

func validatePodCIDRs(cidrs []string) field.ErrorList {
	p := field.NewPath("spec", "podCIDRs")
	var errs field.ErrorList
	for i, c := range cidrs {
		errs = append(errs, validation.IsValidCIDR(p.Index(i), c)...)
	}
	if len(errs) > 0 || len(cidrs) < 2 {
		return errs
	}
	if len(cidrs) > 2 || strings.Contains(cidrs[0], ":") == strings.Contains(cidrs[1], ":") {
		errs = append(errs, field.Invalid(p, cidrs, "may specify no more than one CIDR for each IP family"))
	}
	seen := sets.New[string]()
	for i, c := range cidrs {
		if seen.Has(c) {
			errs = append(errs, field.Duplicate(p.Index(i), c))
		}
		seen.Insert(c)
	}
	return errs
}

var _ registry.AttrFunc = GetAttrs
