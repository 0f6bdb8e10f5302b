package podspec

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Options tunes validation for the object embedding the spec.
type Options struct {
	// ResourceIsPod is set when the spec is a Pod's own spec rather than a
	// template: it enables the pod-only checks (hostPort must equal
	// containerPort under hostNetwork, no padding around images, no
	// serviceAccountToken projection without a service account).
	ResourceIsPod bool
	// ClaimTemplates names volumes that exist outside spec.volumes (a
	// StatefulSet's volumeClaimTemplates); mounts may refer to them.
	ClaimTemplates []string
}

// ValidatePodTemplateSpec validates a pod template at fldPath (for example
// spec.template): its labels and annotations and its spec. Ephemeral
// containers are forbidden in templates.
func ValidatePodTemplateSpec(t *corev1.PodTemplateSpec, fldPath *field.Path, opts Options) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, metav1validation.ValidateLabels(t.Labels, fldPath.Child("labels"))...)
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(t.Annotations, fldPath.Child("annotations"))...)
	errs = append(errs, ValidatePodSpec(&t.Spec, nil, fldPath.Child("spec"), opts)...)
	if len(t.Spec.EphemeralContainers) > 0 {
		errs = append(errs, field.Forbidden(fldPath.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return errs
}

// ValidatePodSpec validates a defaulted PodSpec at fldPath. podMeta is the
// owning pod's metadata, or nil for templates.
func ValidatePodSpec(spec *corev1.PodSpec, podMeta *metav1.ObjectMeta, fldPath *field.Path, opts Options) field.ErrorList {
	var errs field.ErrorList
	if spec.TerminationGracePeriodSeconds == nil {
		errs = append(errs, field.Required(fldPath.Child("terminationGracePeriodSeconds"), ""))
	}
	grace := spec.TerminationGracePeriodSeconds
	hostUsers := spec.HostUsers == nil || *spec.HostUsers

	vols, volErrs := validateVolumes(spec.Volumes, podMeta, fldPath.Child("volumes"))
	errs = append(errs, volErrs...)
	for _, name := range opts.ClaimTemplates {
		if _, ok := vols[name]; !ok {
			vols[name] = corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name}}
		}
	}
	claimNames, claimErrs := validatePodResourceClaims(spec.ResourceClaims, fldPath.Child("resourceClaims"))
	errs = append(errs, claimErrs...)

	cv := containerValidator{vols: vols, claims: claimNames, grace: grace, restartPolicy: spec.RestartPolicy, hostUsers: hostUsers}
	errs = append(errs, cv.containers(spec.Containers, fldPath.Child("containers"))...)
	errs = append(errs, cv.initContainers(spec.InitContainers, spec.Containers, fldPath.Child("initContainers"))...)
	errs = append(errs, cv.ephemeralContainers(spec.EphemeralContainers, spec, fldPath.Child("ephemeralContainers"))...)
	if opts.ResourceIsPod {
		errs = append(errs, validateImageWhitespace(spec.Containers, fldPath.Child("containers"))...)
		errs = append(errs, validateImageWhitespace(spec.InitContainers, fldPath.Child("initContainers"))...)
	}
	if spec.Resources != nil {
		errs = append(errs, validatePodResources(spec.Resources, claimNames, fldPath.Child("resources"))...)
	}

	errs = append(errs, validateHostNetworkDeps(spec, fldPath, opts)...)
	errs = append(errs, validateRestartPolicy(spec.RestartPolicy, fldPath.Child("restartPolicy"))...)
	errs = append(errs, validateDNSPolicy(spec.DNSPolicy, fldPath.Child("dnsPolicy"))...)
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, fldPath.Child("nodeSelector"))...)
	errs = append(errs, validatePodSecurityContext(spec, fldPath, fldPath.Child("securityContext"))...)
	errs = append(errs, validateImagePullSecrets(spec.ImagePullSecrets, fldPath.Child("imagePullSecrets"))...)
	errs = append(errs, validateAffinity(spec.Affinity, fldPath.Child("affinity"))...)
	errs = append(errs, validateDNSConfig(spec.DNSConfig, spec.DNSPolicy, fldPath.Child("dnsConfig"))...)
	for i, g := range spec.ReadinessGates {
		errs = append(errs, ValidateQualifiedName(string(g.ConditionType), fldPath.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	errs = append(errs, validateSchedulingGates(spec.SchedulingGates, fldPath.Child("schedulingGates"))...)
	errs = append(errs, validateTopologySpreadConstraints(spec.TopologySpreadConstraints, fldPath.Child("topologySpreadConstraints"))...)
	errs = append(errs, validateHostUsers(spec, fldPath)...)

	if spec.ServiceAccountName != "" {
		errs = append(errs, validateNameFunc(apimachineryvalidation.ValidateServiceAccountName, spec.ServiceAccountName, fldPath.Child("serviceAccountName"))...)
	}
	if spec.NodeName != "" {
		errs = append(errs, validateNameFunc(apimachineryvalidation.NameIsDNSSubdomain, spec.NodeName, fldPath.Child("nodeName"))...)
	}
	if spec.ActiveDeadlineSeconds != nil {
		if v := *spec.ActiveDeadlineSeconds; v < 1 || v > math.MaxInt32 {
			errs = append(errs, field.Invalid(fldPath.Child("activeDeadlineSeconds"), v, validation.InclusiveRangeError(1, math.MaxInt32)))
		}
	}
	if spec.Hostname != "" {
		errs = append(errs, ValidateDNS1123Label(spec.Hostname, fldPath.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		errs = append(errs, ValidateDNS1123Label(spec.Subdomain, fldPath.Child("subdomain"))...)
	}
	errs = append(errs, ValidateTolerations(spec.Tolerations, fldPath.Child("tolerations"))...)
	errs = append(errs, validateHostAliases(spec.HostAliases, fldPath.Child("hostAliases"))...)
	if spec.PriorityClassName != "" {
		errs = append(errs, validateNameFunc(apimachineryvalidation.NameIsDNSSubdomain, spec.PriorityClassName, fldPath.Child("priorityClassName"))...)
	}
	if spec.RuntimeClassName != nil {
		errs = append(errs, validateNameFunc(apimachineryvalidation.NameIsDNSSubdomain, *spec.RuntimeClassName, fldPath.Child("runtimeClassName"))...)
	}
	if spec.PreemptionPolicy != nil {
		errs = append(errs, validatePreemptionPolicy(*spec.PreemptionPolicy, fldPath.Child("preemptionPolicy"))...)
	}
	if spec.Overhead != nil {
		errs = append(errs, validateResourceRequirements(&corev1.ResourceRequirements{Limits: spec.Overhead}, validateContainerResourceName, nil, fldPath.Child("overhead"))...)
	}
	errs = append(errs, validateOS(spec.OS, fldPath.Child("os"))...)

	if opts.ResourceIsPod && spec.ServiceAccountName == "" {
		errs = append(errs, validateNoTokenProjection(spec.Volumes, fldPath.Child("volumes"))...)
	}
	return errs
}
