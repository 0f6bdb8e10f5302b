package service

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

// UpdateAllocator is the registry's contract for allocators that act on
// updates too.
type UpdateAllocator = registry.UpdateAllocator

type strategy struct {
	family     corev1.IPFamily
	allocators []allocator
}

type allocator interface {
	registry.Allocator
	UpdateAllocator
}

// NewStrategy returns the strategy for writes to services, defaulting IP
// families for an IPv4 cluster and allocating nothing.
func NewStrategy() registry.Strategy { return strategy{family: corev1.IPv4Protocol} }

// NewStrategyWithAllocators returns the strategy for writes to services that
// also implements registry.Allocator and UpdateAllocator by calling ips and
// then ports (either may be nil); a failure of the second undoes the first.
func NewStrategyWithAllocators(ips *ClusterIPAllocator, ports *NodePortAllocator) registry.Strategy {
	s := strategy{family: corev1.IPv4Protocol}
	if ips != nil {
		s.family = ips.Family()
		s.allocators = append(s.allocators, ips)
	}
	if ports != nil {
		s.allocators = append(s.allocators, ports)
	}
	return &allocatingStrategy{strategy: s}
}

// PrepareForCreate clears status, applies defaults, syncs clusterIP and
// clusterIPs, and defaults ipFamilyPolicy/ipFamilies.
func (s strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	svc := regutil.Cast[*corev1.Service](obj)
	svc.Status = corev1.ServiceStatus{}
	SetDefaults(svc)
	normalizeClusterIPs(svc, nil)
	setIPFamilies(svc, s.family)
}

// NameFunc is the rule for service names (a DNS-1035 label), for the
// store's metadata.name check.
func NameFunc(name string, prefix bool) []string {
	return apimachineryvalidation.NameIsDNS1035Label(name, prefix)
}

// Validate requires a valid spec.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateService(regutil.Cast[*corev1.Service](obj))
}

// PrepareForUpdate keeps the stored status, clears what stopped applying
// with a type change, and fills allocated values the client left out.
func (s strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	svc, oldSvc := regutil.Cast[*corev1.Service](obj), regutil.Cast[*corev1.Service](old)
	svc.Status = oldSvc.Status
	normalizeClusterIPs(svc, oldSvc)
	dropTypeDependentFields(svc, oldSvc)
	patchAllocatedValues(svc, oldSvc)
	SetDefaults(svc)
	if !needsClusterIP(oldSvc) {
		setIPFamilies(svc, s.family)
	}
}

// ValidateUpdate validates the new service and the change.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validateUpdate(regutil.Cast[*corev1.Service](obj), regutil.Cast[*corev1.Service](old))
}

type allocatingStrategy struct{ strategy }

var (
	_ registry.Allocator = (*allocatingStrategy)(nil)
	_ UpdateAllocator    = (*allocatingStrategy)(nil)
)

// Allocate runs every allocator; see ClusterIPAllocator and NodePortAllocator.
func (s *allocatingStrategy) Allocate(ctx context.Context, obj runtime.Object) (func(), error) {
	return s.chain(func(a allocator) (func(), error) { return a.Allocate(ctx, obj) })
}

// Release frees what the service held.
func (s *allocatingStrategy) Release(ctx context.Context, obj runtime.Object) {
	for _, a := range s.allocators {
		a.Release(ctx, obj)
	}
}

// AllocateUpdate allocates what an update newly needs.
func (s *allocatingStrategy) AllocateUpdate(ctx context.Context, obj, old runtime.Object) (func(), error) {
	return s.chain(func(a allocator) (func(), error) { return a.AllocateUpdate(ctx, obj, old) })
}

// ReleaseUpdate frees what a stored update no longer holds.
func (s *allocatingStrategy) ReleaseUpdate(ctx context.Context, obj, old runtime.Object) {
	for _, a := range s.allocators {
		a.ReleaseUpdate(ctx, obj, old)
	}
}

func (s *allocatingStrategy) chain(step func(allocator) (func(), error)) (func(), error) {
	var undos []func()
	undoAll := func() {
		for i := len(undos) - 1; i >= 0; i-- {
			undos[i]()
		}
	}
	for _, a := range s.allocators {
		undo, err := step(a)
		if err != nil {
			undoAll()
			return func() {}, err
		}
		undos = append(undos, undo)
	}
	return undoAll, nil
}

type statusStrategy struct{ strategy }

// NewStatusStrategy returns the strategy for services/status: the spec is
// kept and status.loadBalancer is validated.
func NewStatusStrategy() registry.Strategy { return statusStrategy{} }

func (statusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	svc, oldSvc := regutil.Cast[*corev1.Service](obj), regutil.Cast[*corev1.Service](old)
	svc.Spec = oldSvc.Spec
}

func (statusStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return validateStatus(regutil.Cast[*corev1.Service](obj))
}

// GetAttrs returns a service's labels and fields metadata.name,
// metadata.namespace, spec.clusterIP and spec.type.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	svc, err := regutil.AttrsOf[*corev1.Service](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(svc.Labels), regutil.MetaFields(&svc.ObjectMeta, true, fields.Set{
		"spec.clusterIP": svc.Spec.ClusterIP,
		"spec.type":      string(svc.Spec.Type),
	}), nil
}

var _ registry.AttrFunc = GetAttrs
