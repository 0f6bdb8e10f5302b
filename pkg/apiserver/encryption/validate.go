package encryption

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Upstream's messages.
const (
	moreThanOneElementErr    = "more than one provider specified in a single element, should split into different list elements"
	noProviderErr            = "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity"
	keyLenErrFmt             = "secret is not of the expected length, got %d, expected one of %v"
	atLeastOneRequiredErrFmt = "at least one %s is required"
	mandatoryFieldErrFmt     = "%s is a mandatory field for a %s"
	base64EncodingErr        = "secrets must be base64 encoded"
	eventsGroupErr           = "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file"
	extensionsGroupErr       = "'extensions' group has been removed and cannot be used for encryption"
	starResourceErr          = "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources"
	overlapErr               = "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"
	nonRESTAPIResourceErr    = "resources which do not have REST API/s cannot be encrypted"
	resourceNameErr          = "resource name should not contain capital letters"
	resourceAcrossGroupErr   = "encrypting the same resource across groups is not supported"
	duplicateResourceErr     = "the same resource cannot be specified multiple times"
	kmsUnsupportedErr        = "the kms provider is not supported by this apiserver"
)

var (
	aesKeySizes         = []int{16, 24, 32}
	secretboxKeySizes   = []int{32}
	anyGroupAnyResource = schema.GroupResource{Group: "*", Resource: "*"}
)

// Validate checks cfg as upstream's ValidateEncryptionConfiguration does, and
// refuses kms providers.
func Validate(cfg *Configuration) field.ErrorList {
	root := field.NewPath("resources")
	if len(cfg.Resources) == 0 {
		return field.ErrorList{field.Required(root, fmt.Sprintf(atLeastOneRequiredErrFmt, root))}
	}
	var errs field.ErrorList
	for i, rc := range cfg.Resources {
		r, p := root.Index(i).Child("resources"), root.Index(i).Child("providers")
		if len(rc.Resources) == 0 {
			errs = append(errs, field.Required(r, fmt.Sprintf(atLeastOneRequiredErrFmt, r)))
		}
		errs = append(errs, validateOverlap(rc.Resources, r)...)
		errs = append(errs, validateResourceNames(rc.Resources, r)...)
		if len(rc.Providers) == 0 {
			errs = append(errs, field.Required(p, fmt.Sprintf(atLeastOneRequiredErrFmt, p)))
		}
		for j, pc := range rc.Providers {
			path := p.Index(j)
			if err := validateSingleProvider(pc, path); err != nil {
				errs = append(errs, err)
				continue
			}
			switch {
			case pc.KMS != nil:
				errs = append(errs, field.Forbidden(path.Child("kms"), kmsUnsupportedErr))
			case pc.AESGCM != nil:
				errs = append(errs, validateKeys(pc.AESGCM.Keys, path.Child("aesgcm", "keys"), aesKeySizes)...)
			case pc.AESCBC != nil:
				errs = append(errs, validateKeys(pc.AESCBC.Keys, path.Child("aescbc", "keys"), aesKeySizes)...)
			case pc.Secretbox != nil:
				errs = append(errs, validateKeys(pc.Secretbox.Keys, path.Child("secretbox", "keys"), secretboxKeySizes)...)
			}
		}
	}
	return errs
}

func validateSingleProvider(pc ProviderConfiguration, path *field.Path) *field.Error {
	// The value shown is the providers' names: the configuration itself
	// holds key material.
	var found []string
	for name, set := range map[string]bool{"kms": pc.KMS != nil, "aesgcm": pc.AESGCM != nil,
		"aescbc": pc.AESCBC != nil, "secretbox": pc.Secretbox != nil, "identity": pc.Identity != nil} {
		if set {
			found = append(found, name)
		}
	}
	slices.Sort(found)
	switch {
	case len(found) == 0:
		return field.Invalid(path, "{}", noProviderErr)
	case len(found) > 1:
		return field.Invalid(path, strings.Join(found, ", "), moreThanOneElementErr)
	}
	return nil
}

func validateKeys(keys []Key, path *field.Path, sizes []int) field.ErrorList {
	if len(keys) == 0 {
		return field.ErrorList{field.Required(path, fmt.Sprintf(atLeastOneRequiredErrFmt, "keys"))}
	}
	var errs field.ErrorList
	for i, k := range keys {
		kp := path.Index(i)
		if k.Name == "" {
			errs = append(errs, field.Required(kp.Child("name"), fmt.Sprintf(mandatoryFieldErrFmt, "name", "key")))
		}
		if k.Secret == "" {
			errs = append(errs, field.Required(kp.Child("secret"), fmt.Sprintf(mandatoryFieldErrFmt, "secret", "key")))
			continue
		}
		secret, err := base64.StdEncoding.DecodeString(k.Secret)
		if err != nil {
			errs = append(errs, field.Invalid(kp.Child("secret"), "REDACTED", base64EncodingErr))
			continue
		}
		if !slices.Contains(sizes, len(secret)) {
			errs = append(errs, field.Invalid(kp.Child("secret"), "REDACTED", fmt.Sprintf(keyLenErrFmt, len(secret), sizes)))
		}
	}
	return errs
}

// validateOverlap refuses a resource listed twice, and a resource together
// with a wildcard that covers it, in one entry.
func validateOverlap(resources []string, path *field.Path) field.ErrorList {
	grs := make([]schema.GroupResource, 0, len(resources))
	for _, r := range resources {
		grs = append(grs, schema.ParseGroupResource(r))
	}
	var duplicate, overlap bool
	for i, a := range grs {
		for j, b := range grs {
			switch {
			case i == j:
			case a == b:
				duplicate = true
			case a == anyGroupAnyResource:
				overlap = true
			case a.Group == b.Group && (a.Resource == "*" || b.Resource == "*"):
				overlap = true
			}
		}
	}
	var errs field.ErrorList
	if duplicate {
		errs = append(errs, field.Invalid(path, resources, duplicateResourceErr))
	}
	if overlap {
		errs = append(errs, field.Invalid(path, resources, overlapErr))
	}
	return errs
}

func validateResourceNames(resources []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for j, res := range resources {
		msg := ""
		gr := schema.ParseGroupResource(res)
		switch {
		case strings.ToLower(res) != res:
			msg = resourceNameErr
		case res == "*":
			msg = starResourceErr
		case res == "apiserveripinfo" || res == "serviceipallocations" || res == "servicenodeportallocations":
			msg = nonRESTAPIResourceErr
		case gr.Group == "events.k8s.io":
			msg = eventsGroupErr
		case gr.Group == "extensions":
			msg = extensionsGroupErr
		case gr.Group == "*" && gr.Resource != "*":
			msg = resourceAcrossGroupErr
		}
		if msg != "" {
			errs = append(errs, field.Invalid(path.Index(j), res, msg))
		}
	}
	return errs
}
