package podspec

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// standardResources is upstream's helper.standardResources: names without a
// domain that are valid anywhere a resource name is.
var standardResources = sets.New(
	"cpu", "memory", "ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.ephemeral-storage", "requests.storage",
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
	"persistentvolumeclaims", "storage", "services.nodeports", "services.loadbalancers",
)

var standardContainerResources = sets.New("cpu", "memory", "ephemeral-storage")

// integerResources must have whole-number quantities.
var integerResources = sets.New(
	"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
	"persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
)

func isHugePages(name string) bool { return strings.HasPrefix(name, corev1.ResourceHugePagesPrefix) }

func isNativeResource(name string) bool {
	return !strings.Contains(name, "/") || strings.Contains(name, "kubernetes.io/")
}

func isExtendedResource(name string) bool {
	if isNativeResource(name) || strings.HasPrefix(name, "requests.") {
		return false
	}
	return len(validation.IsQualifiedName("requests."+name)) == 0
}

func isOvercommitAllowed(name string) bool { return isNativeResource(name) && !isHugePages(name) }

func validateResourceName(value corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(value)) {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	if len(errs) != 0 {
		return errs
	}
	if !strings.Contains(string(value), "/") && !standardResources.Has(string(value)) && !isHugePages(string(value)) {
		errs = append(errs, field.Invalid(fldPath, value, "must be a standard resource type or fully qualified"))
	}
	return errs
}

func validateContainerResourceName(value corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	errs := validateResourceName(value, fldPath)
	name := string(value)
	if !strings.Contains(name, "/") {
		if !standardContainerResources.Has(name) && !isHugePages(name) {
			errs = append(errs, field.Invalid(fldPath, value, "must be a standard resource for containers"))
		}
	} else if !isNativeResource(name) && !isExtendedResource(name) {
		errs = append(errs, field.Invalid(fldPath, value, "doesn't follow extended resource name standard"))
	}
	return errs
}

var podLevelResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}

func validatePodResourceName(value corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	errs := validateResourceName(value, fldPath)
	if len(errs) == 0 && value != corev1.ResourceCPU && value != corev1.ResourceMemory && !isHugePages(string(value)) {
		errs = append(errs, field.NotSupported(fldPath, value, podLevelResources))
	}
	return errs
}

// ValidateResourceQuantityValue checks that a quantity is not negative and,
// for integer resources, whole.
func ValidateResourceQuantityValue(name corev1.ResourceName, q resource.Quantity, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if q.Cmp(resource.Quantity{}) < 0 {
		errs = append(errs, field.Invalid(fldPath, q.String(), isNegativeErrorMsg))
	}
	if (integerResources.Has(string(name)) || isExtendedResource(string(name))) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(fldPath, q, "must be an integer"))
	}
	return errs
}

type resourceNameFunc func(corev1.ResourceName, *field.Path) field.ErrorList

func validatePodResources(r *corev1.ResourceRequirements, claims sets.Set[string], fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.Claims != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("claims"), "claims cannot be set for Resources at pod-level"))
	}
	return append(errs, validateResourceRequirements(r, validatePodResourceName, claims, fldPath)...)
}

func validateResourceRequirements(r *corev1.ResourceRequirements, nameFn resourceNameFunc, claims sets.Set[string], fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := fldPath.Child("limits"), fldPath.Child("requests")
	var cpuOrMemory, hugePages bool
	for _, name := range sortedNames(r.Limits) {
		q := r.Limits[name]
		p := limPath.Key(string(name))
		errs = append(errs, nameFn(name, p)...)
		errs = append(errs, ValidateResourceQuantityValue(name, q, p)...)
		hugePages = hugePages || isHugePages(string(name))
		cpuOrMemory = cpuOrMemory || name == corev1.ResourceCPU || name == corev1.ResourceMemory
	}
	for _, name := range sortedNames(r.Requests) {
		q := r.Requests[name]
		p := reqPath.Key(string(name))
		errs = append(errs, nameFn(name, p)...)
		errs = append(errs, ValidateResourceQuantityValue(name, q, p)...)
		if lim, ok := r.Limits[name]; ok {
			if q.Cmp(lim) != 0 && !isOvercommitAllowed(string(name)) {
				errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, lim.String())))
			} else if q.Cmp(lim) > 0 {
				errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
			}
		} else if !isOvercommitAllowed(string(name)) {
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
		hugePages = hugePages || isHugePages(string(name))
		cpuOrMemory = cpuOrMemory || name == corev1.ResourceCPU || name == corev1.ResourceMemory
	}
	if hugePages && !cpuOrMemory {
		errs = append(errs, field.Forbidden(fldPath, "HugePages require cpu or memory"))
	}
	names := sets.New[string]()
	for i, c := range r.Claims {
		p := fldPath.Child("claims").Index(i)
		switch {
		case c.Name == "":
			errs = append(errs, field.Required(p, ""))
		case names.Has(c.Name + "/" + c.Request):
			errs = append(errs, field.Duplicate(p, c.Name))
		default:
			names.Insert(c.Name + "/" + c.Request)
			if !claims.Has(c.Name) {
				nf := field.NotFound(p, c.Name)
				nf.Detail = "must be one of the names in pod.spec.resourceClaims"
				if claims.Len() == 0 {
					nf.Detail += " which is empty"
				} else {
					nf.Detail += ": " + strings.Join(sets.List(claims), ", ")
				}
				errs = append(errs, nf)
			}
		}
	}
	return errs
}

// sortedNames gives a deterministic order to map iteration so that error
// lists are stable.
func sortedNames(list corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(list))
	for n := range list {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
