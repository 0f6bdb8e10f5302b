package endpoints

import (
	"context"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to endpoints.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate defaults port protocols to TCP.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	setDefaults(regutil.Cast[*corev1.Endpoints](obj))
}

// Validate checks every subset.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateSubsets(regutil.Cast[*corev1.Endpoints](obj).Subsets, field.NewPath("subsets"))
}

// PrepareForUpdate applies the same defaults as create.
func (strategy) PrepareForUpdate(_ context.Context, obj, _ runtime.Object) {
	setDefaults(regutil.Cast[*corev1.Endpoints](obj))
}

// ValidateUpdate validates the new subsets; nothing is immutable.
func (strategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return validateSubsets(regutil.Cast[*corev1.Endpoints](obj).Subsets, field.NewPath("subsets"))
}

// GetAttrs returns an endpoints object's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	ep, err := regutil.AttrsOf[*corev1.Endpoints](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(ep.Labels), regutil.MetaFields(&ep.ObjectMeta, true, nil), nil
}

func setDefaults(ep *corev1.Endpoints) {
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if p := &ep.Subsets[i].Ports[j]; p.Protocol == "" {
				p.Protocol = corev1.ProtocolTCP
			}
		}
	}
}

func validateSubsets(subsets []corev1.EndpointSubset, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range subsets {
		ss := &subsets[i]
		p := fldPath.Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(p, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j := range ss.Addresses {
			errs = append(errs, validateAddress(&ss.Addresses[j], p.Child("addresses").Index(j))...)
		}
		for j := range ss.NotReadyAddresses {
			errs = append(errs, validateAddress(&ss.NotReadyAddresses[j], p.Child("notReadyAddresses").Index(j))...)
		}
		for j := range ss.Ports {
			errs = append(errs, validatePort(&ss.Ports[j], len(ss.Ports) > 1, p.Child("ports").Index(j))...)
		}
	}
	return errs
}

func validateAddress(a *corev1.EndpointAddress, fldPath *field.Path) field.ErrorList {
	errs := validation.IsValidIP(fldPath.Child("ip"), a.IP)
	if a.Hostname != "" {
		errs = append(errs, podspec.ValidateDNS1123Label(a.Hostname, fldPath.Child("hostname"))...)
	}
	if a.NodeName != nil {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(*a.NodeName, false) {
			errs = append(errs, field.Invalid(fldPath.Child("nodeName"), *a.NodeName, msg))
		}
	}
	return append(errs, ValidateNonSpecialIP(a.IP, fldPath.Child("ip"))...)
}

// ValidateNonSpecialIP rejects unspecified, loopback and link-local
// addresses, which make no sense as endpoints or external IPs.
func ValidateNonSpecialIP(addr string, fldPath *field.Path) field.ErrorList {
	ip := net.ParseIP(addr)
	if ip == nil {
		return field.ErrorList{field.Invalid(fldPath, addr, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if ip.IsUnspecified() {
		errs = append(errs, field.Invalid(fldPath, addr, fmt.Sprintf("may not be unspecified (%v)", addr)))
	}
	if ip.IsLoopback() {
		errs = append(errs, field.Invalid(fldPath, addr, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(fldPath, addr, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(fldPath, addr, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

func validatePort(port *corev1.EndpointPort, requireName bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && port.Name == "" {
		errs = append(errs, field.Required(fldPath.Child("name"), ""))
	} else if port.Name != "" {
		errs = append(errs, podspec.ValidateDNS1123Label(port.Name, fldPath.Child("name"))...)
	}
	for _, msg := range validation.IsValidPortNum(int(port.Port)) {
		errs = append(errs, field.Invalid(fldPath.Child("port"), port.Port, msg))
	}
	errs = append(errs, podspec.ValidateProtocol(port.Protocol, fldPath.Child("protocol"))...)
	if port.AppProtocol != nil {
		errs = append(errs, podspec.ValidateQualifiedName(*port.AppProtocol, fldPath.Child("appProtocol"))...)
	}
	return errs
}

var _ registry.AttrFunc = GetAttrs
