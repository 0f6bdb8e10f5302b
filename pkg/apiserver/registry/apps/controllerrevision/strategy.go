package controllerrevision

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to controllerrevisions.
// Nothing is defaulted or cleared; Validate requires data to be a JSON
// object, ValidateUpdate forbids any change of data.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate has nothing to normalize.
func (strategy) PrepareForCreate(context.Context, runtime.Object) {}

// Validate checks a new revision: revision non-negative, data present and
// a JSON object, with upstream's messages.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	cr := regutil.Cast[*appsv1.ControllerRevision](obj)
	return append(validateRevision(cr), validateData(cr.Data.Raw, field.NewPath("data"))...)
}

func validateData(raw []byte, p *field.Path) field.ErrorList {
	if raw == nil {
		return field.ErrorList{field.Required(p, "data is mandatory")}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return field.ErrorList{field.Invalid(p, "<value omitted>", fmt.Sprintf("error parsing data: %v", err.Error()))}
	}
	if v == nil {
		return field.ErrorList{field.Required(p, "data is mandatory")}
	}
	if _, ok := v.(map[string]any); !ok {
		return field.ErrorList{field.Required(p, "data must be a valid JSON object")}
	}
	return nil
}

// PrepareForUpdate has nothing to normalize.
func (strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

// ValidateUpdate checks the revision number and that data is unchanged.
// Data is compared as JSON without insignificant white space, so a client
// that sends back what it read is never refused for its formatting.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	cr, oldCR := regutil.Cast[*appsv1.ControllerRevision](obj), regutil.Cast[*appsv1.ControllerRevision](old)
	errs := validateRevision(cr)
	if !bytes.Equal(compact(cr.Data.Raw), compact(oldCR.Data.Raw)) {
		errs = append(errs, field.Invalid(field.NewPath("data"), cr.Data, apimachineryvalidation.FieldImmutableErrorMsg))
	}
	return errs
}

func validateRevision(cr *appsv1.ControllerRevision) field.ErrorList {
	return apimachineryvalidation.ValidateNonnegativeField(cr.Revision, field.NewPath("revision"))
}

// compact returns raw without insignificant white space, or raw itself when
// it is not JSON.
func compact(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
