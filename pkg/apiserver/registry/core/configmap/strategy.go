package configmap

import (
	"context"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

// MaxSize is the limit on the summed size of data and binaryData values
// (upstream's MaxSecretSize, shared by ConfigMaps).
const MaxSize = 1 * 1024 * 1024

const immutableMsg = "field is immutable when `immutable` is set"

type strategy struct{}

// NewStrategy returns the strategy for writes to configmaps.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate applies SetDefaults_ConfigMap (data becomes an empty map).
func (strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	cm := regutil.Cast[*corev1.ConfigMap](obj)
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
}

// Validate checks keys (no key in both data and binaryData) and size.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validate(regutil.Cast[*corev1.ConfigMap](obj))
}

// PrepareForUpdate applies defaults; ConfigMaps have no status.
func (s strategy) PrepareForUpdate(ctx context.Context, obj, _ runtime.Object) {
	s.PrepareForCreate(ctx, obj)
}

// ValidateUpdate also enforces `immutable: true`: neither the flag nor the
// data may change afterwards.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	cm, oldCM := regutil.Cast[*corev1.ConfigMap](obj), regutil.Cast[*corev1.ConfigMap](old)
	var errs field.ErrorList
	if oldCM.Immutable != nil && *oldCM.Immutable {
		if cm.Immutable == nil || !*cm.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), immutableMsg))
		}
		if !reflect.DeepEqual(emptyNil(cm.Data), emptyNil(oldCM.Data)) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), immutableMsg))
		}
		if !reflect.DeepEqual(cm.BinaryData, oldCM.BinaryData) {
			errs = append(errs, field.Forbidden(field.NewPath("binaryData"), immutableMsg))
		}
	}
	return append(errs, validate(cm)...)
}

// GetAttrs returns a configmap's labels and metadata fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	cm, err := regutil.AttrsOf[*corev1.ConfigMap](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(cm.Labels), regutil.MetaFields(&cm.ObjectMeta, true, nil), nil
}

func validate(cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for key, value := range cm.Data {
		p := field.NewPath("data").Key(key)
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(p, key, msg))
		}
		if _, dup := cm.BinaryData[key]; dup {
			errs = append(errs, field.Invalid(p, key, "duplicate of key present in binaryData"))
		}
		size += len(value)
	}
	for key, value := range cm.BinaryData {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(key), key, msg))
		}
		size += len(value)
	}
	if size > MaxSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", MaxSize))
	}
	return errs
}

func emptyNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

var _ registry.AttrFunc = GetAttrs
