package secret

import (
	"context"
	"encoding/json"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

// MaxSize is the limit on the summed size of the data values.
const MaxSize = 1 * 1024 * 1024

const immutableMsg = "field is immutable when `immutable` is set"

type strategy struct{}

// NewStrategy returns the strategy for writes to secrets.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate defaults the type to Opaque and folds stringData into
// data (stringData wins), as upstream's v1 conversion does; stringData is
// never stored.
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	normalize(regutil.Cast[*corev1.Secret](obj))
}

// Validate checks keys, size and the keys each built-in type requires.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validate(regutil.Cast[*corev1.Secret](obj))
}

// PrepareForUpdate applies the same normalization as create.
func (strategy) PrepareForUpdate(_ context.Context, obj, _ runtime.Object) {
	normalize(regutil.Cast[*corev1.Secret](obj))
}

// ValidateUpdate also keeps the type and enforces `immutable: true`.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	s, oldS := regutil.Cast[*corev1.Secret](obj), regutil.Cast[*corev1.Secret](old)
	errs := apimachineryvalidation.ValidateImmutableField(s.Type, oldS.Type, field.NewPath("type"))
	if oldS.Immutable != nil && *oldS.Immutable {
		if s.Immutable == nil || !*s.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), immutableMsg))
		}
		if (len(s.Data) != 0 || len(oldS.Data) != 0) && !reflect.DeepEqual(s.Data, oldS.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), immutableMsg))
		}
	}
	return append(errs, validate(s)...)
}

// GetAttrs returns a secret's labels and fields metadata.name,
// metadata.namespace and type.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	s, err := regutil.AttrsOf[*corev1.Secret](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(s.Labels), regutil.MetaFields(&s.ObjectMeta, true, fields.Set{"type": string(s.Type)}), nil
}

func normalize(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) > 0 && s.Data == nil {
		s.Data = make(map[string][]byte, len(s.StringData))
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

func validate(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	dataPath := field.NewPath("data")
	size := 0
	for key, value := range s.Data {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(dataPath.Key(key), key, msg))
		}
		size += len(value)
	}
	if size > MaxSize {
		errs = append(errs, field.TooLong(dataPath, "", MaxSize))
	}
	require := func(key string) {
		if _, ok := s.Data[key]; !ok {
			errs = append(errs, field.Required(dataPath.Key(key), ""))
		}
	}
	validJSON := func(key string) {
		b, ok := s.Data[key]
		if !ok {
			errs = append(errs, field.Required(dataPath.Key(key), ""))
			return
		}
		if err := json.Unmarshal(b, &map[string]any{}); err != nil {
			errs = append(errs, field.Invalid(dataPath.Key(key), "<secret contents redacted>", err.Error()))
		}
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		validJSON(corev1.DockerConfigKey)
	case corev1.SecretTypeDockerConfigJson:
		validJSON(corev1.DockerConfigJsonKey)
	case corev1.SecretTypeBasicAuth:
		_, user := s.Data[corev1.BasicAuthUsernameKey]
		_, pass := s.Data[corev1.BasicAuthPasswordKey]
		if !user && !pass {
			require(corev1.BasicAuthUsernameKey)
			require(corev1.BasicAuthPasswordKey)
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			errs = append(errs, field.Required(dataPath.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		require(corev1.TLSCertKey)
		require(corev1.TLSPrivateKeyKey)
	}
	return errs
}

var _ registry.AttrFunc = GetAttrs
