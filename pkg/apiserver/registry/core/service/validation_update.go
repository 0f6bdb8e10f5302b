package service

import (
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
)

// validateUpdate adds the rules on changes: clusterIPs and the primary IP
// family may not change once set (except to or from ExternalName), the
// health-check node port and load balancer class are immutable.
func validateUpdate(svc, old *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	ipsPath := field.NewPath("spec", "clusterIPs")
	policyPath := field.NewPath("spec", "ipFamilyPolicy")
	if needsClusterIP(svc) && needsClusterIP(old) && !(isHeadless(svc) && isHeadless(old)) {
		n, o := svc.Spec.ClusterIPs, old.Spec.ClusterIPs
		switch {
		case len(o) == len(n):
			for i := range o {
				if o[i] != n[i] {
					errs = append(errs, field.Invalid(ipsPath.Index(i), n, "may not change once set"))
				}
			}
		case len(o) > len(n):
			if len(n) == 0 {
				errs = append(errs, field.Invalid(ipsPath.Index(0), n, "primary clusterIP can not be unset"))
			} else if n[0] != o[0] {
				errs = append(errs, field.Invalid(ipsPath.Index(0), n, "may not change once set"))
			}
			if len(n) == 1 && (svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack) {
				errs = append(errs, field.Invalid(policyPath, svc.Spec.IPFamilyPolicy, "must be set to 'SingleStack' when releasing the secondary clusterIP"))
			}
		default:
			if len(o) > 0 && n[0] != o[0] {
				errs = append(errs, field.Invalid(ipsPath.Index(0), n, "may not change once set"))
			}
			if len(n) > 1 && (svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack) {
				errs = append(errs, field.Invalid(policyPath, svc.Spec.IPFamilyPolicy, "must be 'PreferDualStack' or 'RequireDualStack' when multiple cluster IPs are specified"))
			}
		}
		if !isHeadless(svc) && !isHeadless(old) && len(old.Spec.IPFamilies) > 0 &&
			(len(svc.Spec.IPFamilies) == 0 || svc.Spec.IPFamilies[0] != old.Spec.IPFamilies[0]) {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilies").Index(0), svc.Spec.IPFamilies, "may not change once set"))
		}
	}
	if needsHealthCheck(old) && needsHealthCheck(svc) && svc.Spec.HealthCheckNodePort != old.Spec.HealthCheckNodePort {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "healthCheckNodePort"), "field is immutable"))
	}
	if old.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(svc.Spec.LoadBalancerClass, old.Spec.LoadBalancerClass, field.NewPath("spec", "loadBalancerClass"))...)
	}
	return append(errs, validateService(svc)...)
}

// validateStatus checks status.loadBalancer.
func validateStatus(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("status", "loadBalancer", "ingress")
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer && len(svc.Status.LoadBalancer.Ingress) != 0 {
		return field.ErrorList{field.Forbidden(p, "may only be used when `spec.type` is 'LoadBalancer'")}
	}
	for i, ing := range svc.Status.LoadBalancer.Ingress {
		ip := p.Index(i)
		if ing.IP != "" {
			errs = append(errs, validation.IsValidIP(ip.Child("ip"), ing.IP)...)
		}
		switch {
		case ing.IPMode == nil && ing.IP != "":
			errs = append(errs, field.Required(ip.Child("ipMode"), "must be specified when `ip` is set"))
		case ing.IPMode != nil && ing.IP == "":
			errs = append(errs, field.Forbidden(ip.Child("ipMode"), "may not be specified when `ip` is not set"))
		case ing.IPMode != nil && *ing.IPMode != corev1.LoadBalancerIPModeVIP && *ing.IPMode != corev1.LoadBalancerIPModeProxy:
			errs = append(errs, field.NotSupported(ip.Child("ipMode"), ing.IPMode, []corev1.LoadBalancerIPMode{corev1.LoadBalancerIPModeProxy, corev1.LoadBalancerIPModeVIP}))
		}
		if ing.Hostname != "" {
			errs = append(errs, podspec.ValidateDNS1123Subdomain(ing.Hostname, ip.Child("hostname"))...)
		}
	}
	return errs
}
