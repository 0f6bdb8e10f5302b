package event

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

// Length limits of the newer event fields.
const (
	reportingInstanceLengthLimit = 128
	actionLengthLimit            = 128
	reasonLengthLimit            = 128
	noteLengthLimit              = 1024
)

type strategy struct{}

// NewStrategy returns the strategy for writes to core/v1 events.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate has nothing to normalize: events have no status.
func (strategy) PrepareForCreate(context.Context, runtime.Object) {}

// Validate applies upstream's legacy event validation.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return ValidateLegacy(regutil.Cast[*corev1.Event](obj))
}

// PrepareForUpdate has nothing to normalize.
func (strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

// ValidateUpdate applies the legacy validation to the new event; through
// core/v1 every field stays mutable, as upstream.
func (strategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return ValidateLegacy(regutil.Cast[*corev1.Event](obj))
}

// GetAttrs returns an event's labels and its selectable fields.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	e, err := regutil.AttrsOf[*corev1.Event](obj)
	if err != nil {
		return nil, nil, err
	}
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	ref := e.InvolvedObject
	return labels.Set(e.Labels), regutil.MetaFields(&e.ObjectMeta, true, fields.Set{
		"involvedObject.kind":            ref.Kind,
		"involvedObject.namespace":       ref.Namespace,
		"involvedObject.name":            ref.Name,
		"involvedObject.uid":             string(ref.UID),
		"involvedObject.apiVersion":      ref.APIVersion,
		"involvedObject.resourceVersion": ref.ResourceVersion,
		"involvedObject.fieldPath":       ref.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.Type,
	}), nil
}

// ValidateLegacy is upstream's legacyValidateEvent, which every event must
// pass whatever API group wrote it: an old-style event (no eventTime) must
// live in its involved object's namespace (or default); a new-style one
// needs reportingController, reportingInstance, action and reason.
func ValidateLegacy(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	if e.EventTime.IsZero() {
		if e.InvolvedObject.Namespace == "" {
			if e.Namespace != metav1.NamespaceNone && e.Namespace != metav1.NamespaceDefault {
				errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
			}
		} else if e.Namespace != e.InvolvedObject.Namespace {
			errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else {
		if e.InvolvedObject.Namespace == "" && e.Namespace != metav1.NamespaceDefault && e.Namespace != metav1.NamespaceSystem {
			errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
		errs = append(errs, requiredMax("reportingController", e.ReportingController, 0)...)
		for _, msg := range validation.IsQualifiedName(e.ReportingController) {
			errs = append(errs, field.Invalid(field.NewPath("reportingController"), e.ReportingController, msg))
		}
		errs = append(errs, requiredMax("reportingInstance", e.ReportingInstance, reportingInstanceLengthLimit)...)
		errs = append(errs, requiredMax("action", e.Action, actionLengthLimit)...)
		errs = append(errs, requiredMax("reason", e.Reason, reasonLengthLimit)...)
		if len(e.Message) > noteLengthLimit {
			errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", noteLengthLimit)))
		}
	}
	for _, msg := range validation.IsDNS1123Subdomain(e.Namespace) {
		errs = append(errs, field.Invalid(field.NewPath("namespace"), e.Namespace, msg))
	}
	return errs
}

// requiredMax reports an empty value, or one longer than limit (if limit>0).
func requiredMax(name, value string, limit int) field.ErrorList {
	p := field.NewPath(name)
	if value == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if limit > 0 && len(value) > limit {
		return field.ErrorList{field.Invalid(p, "", fmt.Sprintf("can have at most %v characters", limit))}
	}
	return nil
}

var _ registry.AttrFunc = GetAttrs
