package generic

import (
	"context"
	"fmt"
	"reflect"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Rules are what one kind T (a pointer type, e.g. *appsv1.Deployment)
// decides about its writes; Strategy and StatusStrategy add what every kind
// of the same shape shares. Every field may be nil.
type Rules[T runtime.Object] struct {
	// Default applies the kind's defaults, on create and on update.
	Default func(obj T)
	// AfterCreateDefault runs on a new object after Default (a job's
	// generated selector, which needs the defaulted spec).
	AfterCreateDefault func(obj T)
	// AfterUpdateDefault runs on an updated object after Default and the
	// generation (a daemonset's template generation, which follows its
	// template).
	AfterUpdateDefault func(obj, old T)
	// Validate returns the problems of an object, on create and on update.
	Validate func(obj T) field.ErrorList
	// ValidateUpdate returns the problems only an update can have
	// (immutable fields), reported after Validate's.
	ValidateUpdate func(obj, old T) field.ErrorList

	// SpecStatus makes T a kind with a spec and a status that tracks
	// metadata.generation, as upstream's workloads: writes to the resource
	// ignore status (cleared on create, kept from the stored object on
	// update), generation is 1 on create and grows by one when the spec
	// changes; writes to /status keep the stored spec and generation. T's
	// struct must have fields Spec and Status.
	SpecStatus bool
	// GenerationChanged, with SpecStatus, tells whether an update changes
	// something besides the spec that also counts as a new generation (a
	// deployment's annotations).
	GenerationChanged func(obj, old T) bool
	// KeepOnStatusUpdate, with SpecStatus, restores what /status may not
	// change besides spec and generation (a deployment's labels).
	KeepOnStatusUpdate func(obj, old T)
	// ValidateStatus returns the problems of a /status update.
	ValidateStatus func(obj, old T) field.ErrorList

	// GarbageCollection is what a deletion without a propagation policy
	// does to the object's dependents (see GarbageCollector).
	GarbageCollection GarbageCollectionPolicy
}

// Strategy returns the strategy of the resource itself. It panics when
// SpecStatus is set and T has no Spec or Status field: a wiring error the
// registry's tests catch.
func (r Rules[T]) Strategy() registry.Strategy {
	s := &ruleStrategy[T]{rules: r}
	if r.SpecStatus {
		s.spec, s.status = specStatusFields[T]()
	}
	return s
}

// StatusStrategy returns the strategy of the /status subresource. It panics
// unless SpecStatus is set (and T has Spec and Status fields).
func (r Rules[T]) StatusStrategy() registry.Strategy {
	if !r.SpecStatus {
		var t T
		panic(fmt.Sprintf("generic: StatusStrategy of %T, whose Rules are not SpecStatus", t))
	}
	s := &ruleStrategy[T]{rules: r}
	s.spec, s.status = specStatusFields[T]()
	return statusStrategy[T]{s}
}

// ruleStrategy is the strategy of the resource itself.
type ruleStrategy[T runtime.Object] struct {
	rules        Rules[T]
	spec, status int // field indexes in T's struct (SpecStatus)
}

// DefaultGarbageCollectionPolicy implements GarbageCollector.
func (s *ruleStrategy[T]) DefaultGarbageCollectionPolicy() GarbageCollectionPolicy {
	return s.rules.GarbageCollection
}

// fieldOf returns the field i of the struct obj points to.
func fieldOf(obj runtime.Object, i int) reflect.Value { return reflect.ValueOf(obj).Elem().Field(i) }

func (s *ruleStrategy[T]) cast(obj runtime.Object) T {
	t, ok := obj.(T)
	if !ok {
		var want T
		panic(fmt.Sprintf("registry: strategy for %T called with %T", want, obj))
	}
	return t
}

// PrepareForCreate clears status, sets generation 1 (SpecStatus) and
// applies the defaults.
func (s *ruleStrategy[T]) PrepareForCreate(_ context.Context, obj runtime.Object) {
	t := s.cast(obj)
	if s.rules.SpecStatus {
		st := fieldOf(t, s.status)
		st.Set(reflect.Zero(st.Type()))
		if m, err := meta.Accessor(t); err == nil {
			m.SetGeneration(1)
		}
	}
	if s.rules.Default != nil {
		s.rules.Default(t)
	}
	if s.rules.AfterCreateDefault != nil {
		s.rules.AfterCreateDefault(t)
	}
}

// Validate applies Rules.Validate.
func (s *ruleStrategy[T]) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	if s.rules.Validate == nil {
		return nil
	}
	return s.rules.Validate(s.cast(obj))
}

// PrepareForUpdate keeps the stored status (SpecStatus), applies the
// defaults, and bumps the generation when the spec changed.
func (s *ruleStrategy[T]) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	t, o := s.cast(obj), s.cast(old)
	if s.rules.SpecStatus {
		fieldOf(t, s.status).Set(fieldOf(o, s.status))
	}
	if s.rules.Default != nil {
		s.rules.Default(t)
	}
	if s.rules.SpecStatus {
		changed := !apiequality.Semantic.DeepEqual(fieldOf(t, s.spec).Interface(), fieldOf(o, s.spec).Interface())
		if !changed && s.rules.GenerationChanged != nil {
			changed = s.rules.GenerationChanged(t, o)
		}
		m, err1 := meta.Accessor(t)
		om, err2 := meta.Accessor(o)
		if err1 == nil && err2 == nil {
			gen := om.GetGeneration()
			if changed {
				gen++
			}
			m.SetGeneration(gen)
		}
	}
	if s.rules.AfterUpdateDefault != nil {
		s.rules.AfterUpdateDefault(t, o)
	}
}

// ValidateUpdate applies Rules.Validate, then Rules.ValidateUpdate.
func (s *ruleStrategy[T]) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	errs := s.Validate(ctx, obj)
	if s.rules.ValidateUpdate != nil {
		errs = append(errs, s.rules.ValidateUpdate(s.cast(obj), s.cast(old))...)
	}
	return errs
}

// statusStrategy is the strategy of /status: creates never go through it.
type statusStrategy[T runtime.Object] struct{ *ruleStrategy[T] }

// PrepareForUpdate keeps the stored spec, generation and what
// KeepOnStatusUpdate restores.
func (s statusStrategy[T]) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	t, o := s.cast(obj), s.cast(old)
	fieldOf(t, s.spec).Set(fieldOf(o, s.spec))
	m, err1 := meta.Accessor(t)
	om, err2 := meta.Accessor(o)
	if err1 == nil && err2 == nil {
		m.SetGeneration(om.GetGeneration())
	}
	if s.rules.KeepOnStatusUpdate != nil {
		s.rules.KeepOnStatusUpdate(t, o)
	}
}

// ValidateUpdate applies Rules.ValidateStatus.
func (s statusStrategy[T]) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	if s.rules.ValidateStatus == nil {
		return nil
	}
	return s.rules.ValidateStatus(s.cast(obj), s.cast(old))
}

// specStatusFields returns the indexes of the Spec and Status fields of the
// struct T points to.
func specStatusFields[T runtime.Object]() (spec, status int) {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("generic: spec/status rules for %v, not a pointer to a struct", t))
	}
	sf, ok1 := t.Elem().FieldByName("Spec")
	stf, ok2 := t.Elem().FieldByName("Status")
	if !ok1 || !ok2 || len(sf.Index) != 1 || len(stf.Index) != 1 {
		panic(fmt.Sprintf("generic: spec/status rules for %v, which has no Spec and Status fields", t))
	}
	return sf.Index[0], stf.Index[0]
}
