package event

import (
	"context"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	coreevent "github.com/kinc-dev/kinc/pkg/apiserver/registry/core/event"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

type strategy struct{}

// NewStrategy returns the strategy for writes to events.k8s.io/v1 events.
func NewStrategy() registry.Strategy { return strategy{} }

// PrepareForCreate has nothing to normalize.
func (strategy) PrepareForCreate(context.Context, runtime.Object) {}

// Validate applies the legacy and the strict (events.k8s.io/v1) checks.
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	e := ToCore(regutil.Cast[*eventsv1.Event](obj))
	errs := coreevent.ValidateLegacy(e)
	errs = append(errs, validateSeries(e)...)
	if e.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", e.Type)))
	}
	if !e.FirstTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("firstTimestamp"), "", "needs to be unset"))
	}
	if !e.LastTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("lastTimestamp"), "", "needs to be unset"))
	}
	if e.Count != 0 {
		errs = append(errs, field.Invalid(field.NewPath("count"), "", "needs to be unset"))
	}
	if e.Source.Component != "" || e.Source.Host != "" {
		errs = append(errs, field.Invalid(field.NewPath("source"), "", "needs to be unset"))
	}
	return errs
}

// PrepareForUpdate has nothing to normalize.
func (strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

// ValidateUpdate applies the legacy checks, re-validates a changed series,
// and keeps everything but the series (and metadata) immutable.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	e, o := ToCore(regutil.Cast[*eventsv1.Event](obj)), ToCore(regutil.Cast[*eventsv1.Event](old))
	errs := coreevent.ValidateLegacy(e)
	if !reflect.DeepEqual(e.Series, o.Series) {
		errs = append(errs, validateSeries(e)...)
	}
	immutable := func(name string, n, old any) {
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(n, old, field.NewPath(name))...)
	}
	immutable("involvedObject", e.InvolvedObject, o.InvolvedObject)
	immutable("reason", e.Reason, o.Reason)
	immutable("message", e.Message, o.Message)
	immutable("source", e.Source, o.Source)
	immutable("firstTimestamp", e.FirstTimestamp, o.FirstTimestamp)
	immutable("lastTimestamp", e.LastTimestamp, o.LastTimestamp)
	immutable("count", e.Count, o.Count)
	immutable("type", e.Type, o.Type)
	immutable("eventTime", e.EventTime, o.EventTime)
	immutable("action", e.Action, o.Action)
	immutable("related", e.Related, o.Related)
	immutable("reportingController", e.ReportingController, o.ReportingController)
	immutable("reportingInstance", e.ReportingInstance, o.ReportingInstance)
	return errs
}

// GetAttrs returns an event's labels and its selectable fields, under the
// events.k8s.io/v1 names: regarding.*, reason, reportingController, type.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	e, err := regutil.AttrsOf[*eventsv1.Event](obj)
	if err != nil {
		return nil, nil, err
	}
	r := e.Regarding
	return labels.Set(e.Labels), regutil.MetaFields(&e.ObjectMeta, true, fields.Set{
		"regarding.kind":            r.Kind,
		"regarding.namespace":       r.Namespace,
		"regarding.name":            r.Name,
		"regarding.uid":             string(r.UID),
		"regarding.apiVersion":      r.APIVersion,
		"regarding.resourceVersion": r.ResourceVersion,
		"regarding.fieldPath":       r.FieldPath,
		"reason":                    e.Reason,
		"reportingController":       e.ReportingController,
		"type":                      e.Type,
	}), nil
}

// ToCore converts an events.k8s.io/v1 Event to the equivalent core/v1
// Event, as upstream's conversion through the internal type does.
func ToCore(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		ObjectMeta:          e.ObjectMeta,
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		Related:             e.Related,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}

func validateSeries(e *corev1.Event) field.ErrorList {
	if e.Series == nil {
		return nil
	}
	var errs field.ErrorList
	if e.Series.Count < 2 {
		errs = append(errs, field.Invalid(field.NewPath("series.count"), "", "should be at least 2"))
	}
	if e.Series.LastObservedTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("series.lastObservedTime"), ""))
	}
	return errs
}

var _ registry.AttrFunc = GetAttrs

// FromCore converts a core/v1 Event to the events.k8s.io/v1 view of it, the
// inverse of ToCore: both APIs serve the same stored events.
func FromCore(e *corev1.Event) *eventsv1.Event {
	out := &eventsv1.Event{
		ObjectMeta:               e.ObjectMeta,
		EventTime:                e.EventTime,
		ReportingController:      e.ReportingController,
		ReportingInstance:        e.ReportingInstance,
		Action:                   e.Action,
		Reason:                   e.Reason,
		Regarding:                e.InvolvedObject,
		Related:                  e.Related,
		Note:                     e.Message,
		Type:                     e.Type,
		DeprecatedSource:         e.Source,
		DeprecatedFirstTimestamp: e.FirstTimestamp,
		DeprecatedLastTimestamp:  e.LastTimestamp,
		DeprecatedCount:          e.Count,
	}
	if e.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return out
}
