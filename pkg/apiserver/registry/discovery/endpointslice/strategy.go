package endpointslice

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to endpointslices.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate sets generation 1, defaults ports and drops
// deprecatedTopology (its kubernetes.io/hostname is not carried over on
// create: there is no earlier node to match).
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	s := regutil.Cast[*discoveryv1.EndpointSlice](obj)
	s.Generation = 1
	setDefaults(s)
	dropTopology(nil, s)
}

// Validate checks a new slice.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validate(regutil.Cast[*discoveryv1.EndpointSlice](obj), nil)
}

// PrepareForUpdate defaults ports, drops deprecatedTopology when the
// endpoints change and bumps the generation when anything but metadata, or
// the labels, changed.
func (strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	s, oldS := regutil.Cast[*discoveryv1.EndpointSlice](obj), regutil.Cast[*discoveryv1.EndpointSlice](old)
	setDefaults(s)
	changed := s.AddressType != oldS.AddressType || !apiequality.Semantic.DeepEqual(s.Endpoints, oldS.Endpoints) ||
		!apiequality.Semantic.DeepEqual(s.Ports, oldS.Ports) || !apiequality.Semantic.DeepEqual(s.Labels, oldS.Labels)
	regutil.BumpGeneration(&s.ObjectMeta, &oldS.ObjectMeta, changed)
	dropTopology(oldS, s)
}

// ValidateUpdate checks the slice (endpoints that did not change are not
// checked again) and that addressType did not change.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	s, oldS := regutil.Cast[*discoveryv1.EndpointSlice](obj), regutil.Cast[*discoveryv1.EndpointSlice](old)
	errs := validate(s, oldS)
	return append(errs, apimachineryvalidation.ValidateImmutableField(s.AddressType, oldS.AddressType, field.NewPath("addressType"))...)
}

// setDefaults is SetDefaults_EndpointPort: name "" and protocol TCP.
func setDefaults(s *discoveryv1.EndpointSlice) {
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Name == nil {
			p.Name = ptr.To("")
		}
		if p.Protocol == nil {
			p.Protocol = ptr.To(corev1.ProtocolTCP)
		}
	}
}

// dropTopology clears deprecatedTopology of every endpoint, as upstream
// does for discovery.k8s.io/v1 writes that change the endpoints. An
// endpoint without nodeName whose kubernetes.io/hostname label named a
// node of the old slice gets that nodeName (clients that round-trip
// through v1beta1 keep their node).
func dropTopology(old, s *discoveryv1.EndpointSlice) {
	if old != nil && apiequality.Semantic.DeepEqual(old.Endpoints, s.Endpoints) {
		return
	}
	prev := map[string]bool{}
	if old != nil {
		for _, ep := range old.Endpoints {
			if n := ep.DeprecatedTopology[corev1.LabelHostname]; n != "" {
				prev[n] = true
			}
		}
	}
	for i := range s.Endpoints {
		ep := &s.Endpoints[i]
		if n, ok := ep.DeprecatedTopology[corev1.LabelHostname]; ep.NodeName == nil && ok && prev[n] &&
			len(apimachineryvalidation.NameIsDNSSubdomain(n, false)) == 0 {
			ep.NodeName = ptr.To(n)
		}
		ep.DeprecatedTopology = nil
	}
}
