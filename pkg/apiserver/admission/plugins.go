package admission

import (
	"fmt"
	"slices"
	"strings"
)

// Plugin names kinc implements or applies elsewhere, as upstream names them.
const (
	NamespaceLifecycle       = "NamespaceLifecycle"
	ServiceAccount           = "ServiceAccount"
	NodeRestriction          = "NodeRestriction"
	PodSecurity              = "PodSecurity"
	Priority                 = "Priority"
	DefaultTolerationSeconds = "DefaultTolerationSeconds"
)

// OrderedPlugins returns every admission plugin name upstream's
// kube-apiserver v1.37 knows, in the order it runs them
// (AllOrderedPlugins of k8s.io/kubernetes/pkg/kubeapiserver/options).
func OrderedPlugins() []string {
	return []string{
		"AlwaysAdmit",
		"NamespaceAutoProvision",
		NamespaceLifecycle,
		"NamespaceExists",
		"LimitPodHardAntiAffinityTopology",
		"LimitRanger",
		ServiceAccount,
		NodeRestriction,
		"TaintNodesByCondition",
		"AlwaysPullImages",
		"ImagePolicyWebhook",
		PodSecurity,
		"PodNodeSelector",
		Priority,
		DefaultTolerationSeconds,
		"PodTolerationRestriction",
		"EventRateLimit",
		"ExtendedResourceToleration",
		"DefaultStorageClass",
		"StorageObjectInUseProtection",
		"PodGroupProtection",
		"OwnerReferencesPermissionEnforcement",
		"PersistentVolumeClaimResize",
		"RuntimeClass",
		"CertificateApproval",
		"CertificateSigning",
		"ClusterTrustBundleAttest",
		"CertificateSubjectRestriction",
		"DefaultIngressClass",
		"DenyServiceExternalIPs",
		"PodTopologyLabels",
		"NodeDeclaredFeatureValidator",
		"PodResizeValidator",
		"MutatingAdmissionPolicy",
		"MutatingAdmissionWebhook",
		"ValidatingAdmissionPolicy",
		"ValidatingAdmissionWebhook",
		"ResourceQuota",
		"AlwaysDeny",
	}
}

// DefaultOnPlugins returns the names upstream enables without
// --enable-admission-plugins (the complement of DefaultOffAdmissionPlugins),
// in OrderedPlugins' order.
func DefaultOnPlugins() []string {
	on := map[string]bool{
		NamespaceLifecycle: true, "LimitRanger": true, ServiceAccount: true, "DefaultStorageClass": true,
		"PersistentVolumeClaimResize": true, DefaultTolerationSeconds: true, "MutatingAdmissionWebhook": true,
		"ValidatingAdmissionWebhook": true, "ResourceQuota": true, "StorageObjectInUseProtection": true,
		"PodGroupProtection": true, Priority: true, "TaintNodesByCondition": true, "RuntimeClass": true,
		"CertificateApproval": true, "CertificateSigning": true, "ClusterTrustBundleAttest": true,
		"CertificateSubjectRestriction": true, "DefaultIngressClass": true, PodSecurity: true,
		"PodTopologyLabels": true, "MutatingAdmissionPolicy": true, "ValidatingAdmissionPolicy": true,
		"NodeDeclaredFeatureValidator": true, "PodResizeValidator": true,
	}
	var out []string
	for _, n := range OrderedPlugins() {
		if on[n] {
			out = append(out, n)
		}
	}
	return out
}

// Enabled returns the plugins --enable-admission-plugins (enable) and
// --disable-admission-plugins (disable) select, in upstream's order: the
// default-on set, plus enable, minus disable. As upstream, a name it does
// not know, or one in both lists, is an error naming the flag.
func Enabled(enable, disable []string) ([]string, error) {
	known := OrderedPlugins()
	var errs []string
	for _, f := range []struct {
		flag  string
		names []string
	}{{"enable-admission-plugins", enable}, {"disable-admission-plugins", disable}} {
		for _, n := range f.names {
			if !slices.Contains(known, n) {
				errs = append(errs, fmt.Sprintf("%s plugin %q is unknown", f.flag, n))
			}
		}
	}
	var both []string
	for _, n := range enable {
		if slices.Contains(disable, n) && !slices.Contains(both, n) {
			both = append(both, n)
		}
	}
	if len(both) > 0 {
		slices.Sort(both)
		errs = append(errs, fmt.Sprintf("%v in enable-admission-plugins and disable-admission-plugins overlapped", both))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("admission plugins: %s", strings.Join(errs, "; "))
	}
	defaults := DefaultOnPlugins()
	var out []string
	for _, n := range known {
		if (slices.Contains(defaults, n) || slices.Contains(enable, n)) && !slices.Contains(disable, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
