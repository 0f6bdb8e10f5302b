package generic

import (
	"context"
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// MergeAttrs returns the attributes of stored objects as base gives them,
// with the fields other gives for the same objects converted by convert
// added: a watch cache shared by two APIs (core and events.k8s.io events)
// then filters for either.
func MergeAttrs(base registry.AttrFunc, convert func(runtime.Object) runtime.Object, other registry.AttrFunc) registry.AttrFunc {
	return func(obj runtime.Object) (labels.Set, fields.Set, error) {
		l, f, err := base(obj)
		if err != nil {
			return nil, nil, err
		}
		_, more, err := other(convert(obj))
		if err != nil {
			return nil, nil, err
		}
		merged := make(fields.Set, len(f)+len(more))
		for k, v := range f {
			merged[k] = v
		}
		for k, v := range more {
			merged[k] = v
		}
		return l, merged, nil
	}
}

// NewConvertingStorage returns a storage.Interface of an external kind over
// stored, the storage of the kind c converts to (registry.Resource's
// SharedStorage: events.k8s.io/v1 events over core/v1 events). attrs are
// the selectable fields of the external kind; selectors of lists and
// watches are evaluated on converted objects.
func NewConvertingStorage(stored storage.Interface, c registry.Conversion, attrs registry.AttrFunc) storage.Interface {
	return convertingStore{Interface: stored, c: c, attrs: attrs}
}

type convertingStore struct {
	storage.Interface
	c     registry.Conversion
	attrs registry.AttrFunc
}

// copyInto sets the object behind the pointer dst to the one behind src
// (both of the same typed kind), as storage fills "out" parameters.
func copyInto(dst, src runtime.Object) {
	reflect.ValueOf(dst).Elem().Set(reflect.ValueOf(src).Elem())
}

func (s convertingStore) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	stored := s.c.NewStored()
	if err := s.Interface.Create(ctx, key, s.c.ToStorage(obj), stored, ttl); err != nil {
		return err
	}
	if out != nil {
		copyInto(out, s.c.FromStorage(stored))
	}
	return nil
}

func (s convertingStore) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	stored := s.c.NewStored()
	if err := s.Interface.Get(ctx, key, opts, stored); err != nil {
		return err
	}
	copyInto(out, s.c.FromStorage(stored))
	return nil
}

func (s convertingStore) predicate(p storage.SelectionPredicate) storage.SelectionPredicate {
	attrs := s.attrs
	p.GetAttrs = func(obj runtime.Object) (labels.Set, fields.Set, error) { return attrs(s.c.FromStorage(obj)) }
	return p
}

func (s convertingStore) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	opts.Predicate = s.predicate(opts.Predicate)
	stored := s.c.NewStoredList()
	if err := s.Interface.GetList(ctx, key, opts, stored); err != nil {
		return err
	}
	items, err := meta.ExtractList(stored)
	if err != nil {
		return err
	}
	out := make([]runtime.Object, 0, len(items))
	for _, it := range items {
		out = append(out, s.c.FromStorage(it))
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
	stored := s.c.NewStored()
	err := s.Interface.GuaranteedUpdate(ctx, key, stored, ignoreNotFound, preconditions, func(existing runtime.Object) (runtime.Object, error) {
		obj, err := tryUpdate(s.c.FromStorage(existing))
		if err != nil {
			return nil, err
		}
		return s.c.ToStorage(obj), nil
	})
	if err != nil {
		return err
	}
	copyInto(dest, s.c.FromStorage(stored))
	return nil
}

func (s convertingStore) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validate storage.ValidateObjectFunc) error {
	stored := s.c.NewStored()
	var v storage.ValidateObjectFunc
	if validate != nil {
		v = func(ctx context.Context, obj runtime.Object) error { return validate(ctx, s.c.FromStorage(obj)) }
	}
	if err := s.Interface.Delete(ctx, key, stored, preconditions, v); err != nil {
		return err
	}
	copyInto(out, s.c.FromStorage(stored))
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
			e.Object = s.c.FromStorage(e.Object)
		}
		return e, true
	}), nil
}
