package server

import (
	"context"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	coreevent "github.com/kinc-dev/kinc/pkg/apiserver/registry/core/event"
	eventsv1reg "github.com/kinc-dev/kinc/pkg/apiserver/registry/events/event"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// converter translates between a kind served by the API (external) and the
// kind it is stored as, for resources served in two groups from one
// storage, as events are (core/v1 and events.k8s.io/v1).
type converter struct {
	toStorage   func(runtime.Object) runtime.Object
	fromStorage func(runtime.Object) runtime.Object
	newStored   func() runtime.Object
	newList     func() runtime.Object
	// externalAttrs are the selectable fields of the external kind.
	externalAttrs storage.AttrFunc
}

// eventsConverter serves events.k8s.io/v1 Events from core/v1 storage.
var eventsConverter = converter{
	toStorage:     func(o runtime.Object) runtime.Object { return eventsv1reg.ToCore(o.(*eventsv1.Event)) },
	fromStorage:   func(o runtime.Object) runtime.Object { return eventsv1reg.FromCore(o.(*corev1.Event)) },
	newStored:     func() runtime.Object { return &corev1.Event{} },
	newList:       func() runtime.Object { return &corev1.EventList{} },
	externalAttrs: eventsv1reg.GetAttrs,
}

// eventAttrs are the selectable fields of stored events in both APIs, so the
// shared watch cache can filter for either.
func eventAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	l, f, err := coreevent.GetAttrs(obj)
	if err != nil {
		return nil, nil, err
	}
	_, v1, err := eventsConverter.externalAttrs(eventsConverter.fromStorage(obj))
	if err != nil {
		return nil, nil, err
	}
	merged := fields.Set{}
	for k, v := range f {
		merged[k] = v
	}
	for k, v := range v1 {
		merged[k] = v
	}
	return l, merged, nil
}

// convertingStore is a storage.Interface of the external kind over a store
// of the stored kind.
type convertingStore struct {
	storage.Interface
	c converter
}

// copyInto sets the object behind the pointer dst to the one behind src
// (both of the same typed kind), as storage fills "out" parameters.
func copyInto(dst, src runtime.Object) {
	reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(src).Elem())
}

func (s convertingStore) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	stored := s.c.newStored()
	if err := s.Interface.Create(ctx, key, s.c.toStorage(obj), stored, ttl); err != nil {
		return err
	}
	if out != nil {
		copyInto(out, s.c.fromStorage(stored))
	}
	return nil
}

func (s convertingStore) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	stored := s.c.newStored()
	if err := s.Interface.Get(ctx, key, opts, stored); err != nil {
		return err
	}
	copyInto(out, s.c.fromStorage(stored))
	return nil
}

func (s convertingStore) predicate(p storage.SelectionPredicate) storage.SelectionPredicate {
	attrs := s.c.externalAttrs
	p.GetAttrs = func(obj runtime.Object) (labels.Set, fields.Set, error) { return attrs(s.c.fromStorage(obj)) }
	return p
}

func (s convertingStore) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	opts.Predicate = s.predicate(opts.Predicate)
	stored := s.c.newList()
	if err := s.Interface.GetList(ctx, key, opts, stored); err != nil {
		return err
	}
	items, err := meta.ExtractList(stored)
	if err != nil {
		return err
	}
	out := make([]runtime.Object, 0, len(items))
	for _, it := range items {
		out = append(out, s.c.fromStorage(it))
	}
	if err := meta.SetList(listObj, out); err != nil {
		return err
	}
	from, _ := meta.ListAccessor(stored)
	to, _ := meta.ListAccessor(listObj)
	to.SetResourceVersion(from.GetResourceVersion())
	to.SetContinue(from.GetContinue())
	to.SetRemainingItemCount(from.GetRemainingItemCount())
	return nil
}

func (s convertingStore) GuaranteedUpdate(ctx context.Context, key string, dest runtime.Object, ignoreNotFound bool,
	preconditions *storage.Preconditions, tryUpdate storage.UpdateFunc) error {
	stored := s.c.newStored()
	err := s.Interface.GuaranteedUpdate(ctx, key, stored, ignoreNotFound, preconditions, func(existing runtime.Object) (runtime.Object, error) {
		obj, err := tryUpdate(s.c.fromStorage(existing))
		if err != nil {
			return nil, err
		}
		return s.c.toStorage(obj), nil
	})
	if err != nil {
		return err
	}
	copyInto(dest, s.c.fromStorage(stored))
	return nil
}

func (s convertingStore) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validate storage.ValidateObjectFunc) error {
	stored := s.c.newStored()
	var v storage.ValidateObjectFunc
	if validate != nil {
		v = func(ctx context.Context, obj runtime.Object) error { return validate(ctx, s.c.fromStorage(obj)) }
	}
	if err := s.Interface.Delete(ctx, key, stored, preconditions, v); err != nil {
		return err
	}
	copyInto(out, s.c.fromStorage(stored))
	return nil
}

func (s convertingStore) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	opts.Predicate = s.predicate(opts.Predicate)
	w, err := s.Interface.Watch(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
		if e.Type != watch.Error {
			e.Object = s.c.fromStorage(e.Object)
		}
		return e, true
	}), nil
}
