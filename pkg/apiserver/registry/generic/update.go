package generic

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// UpdateFunc computes the new object from the stored one; see
// registry.UpdateFunc.
type UpdateFunc = registry.UpdateFunc

// UpdateOptions select how Update behaves; see registry.UpdateOptions.
type UpdateOptions = registry.UpdateOptions

// optimisticLockMsg is upstream's message for a stale resourceVersion.
const optimisticLockMsg = "the object has been modified; please apply your changes to the latest version and try again"

// Update replaces namespace/name with what update computes, atomically: when
// another writer changes the object in between, update runs again on the new
// state. A resourceVersion in the computed object must equal the stored one
// (409 Conflict otherwise); an empty one means an unconditional update. The
// second result tells whether the object was created. The validating
// admission ctx carries (registry.WithValidation) runs on every attempt,
// after the strategy's validation, against the then stored object.
func (s *Store) Update(ctx context.Context, namespace, name string, update UpdateFunc, opts UpdateOptions) (runtime.Object, bool, error) {
	ctx, validate := registry.TakeValidation(ctx)
	strategy := s.Strategy
	if opts.Status {
		if s.StatusStrategy == nil {
			return nil, false, apierrors.NewNotFound(s.Resource, name)
		}
		strategy = s.StatusStrategy
	}
	key := s.Key(namespace, name)
	created := false
	var deleteAfter bool
	// An update that changes what an object holds (a service's node ports)
	// allocates per attempt; a retried attempt first undoes the previous one.
	undo := func() {}
	var lastObj, lastOld runtime.Object
	updateAllocator, _ := strategy.(registry.UpdateAllocator)
	tryUpdate := func(existing runtime.Object) (runtime.Object, error) {
		undo()
		undo, lastObj, lastOld = func() {}, nil, nil
		em, err := accessor(existing)
		if err != nil {
			return nil, err
		}
		exists := em.GetResourceVersion() != ""
		var old runtime.Object
		if exists {
			old = existing
		} else if !s.AllowCreateOnUpdate || opts.Status {
			return nil, apierrors.NewNotFound(s.Resource, name)
		}
		// update gets its own copy: the storage retries with fresh state.
		var oldCopy runtime.Object
		if old != nil {
			oldCopy = old.DeepCopyObject()
		}
		obj, err := update(ctx, oldCopy)
		if err != nil {
			return nil, err
		}
		m, err := accessor(obj)
		if err != nil {
			return nil, err
		}
		if m.GetName() != name {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), name))
		}
		if s.Namespaced && m.GetNamespace() != namespace {
			return nil, apierrors.NewBadRequest("the namespace of the object does not match the namespace on the URL")
		}
		if !exists {
			created = true
			m.SetResourceVersion("")
			out, err := s.prepareCreate(ctx, obj)
			if err != nil {
				return nil, err
			}
			if validate != nil {
				if err := validate(ctx, out, nil); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		if rv := m.GetResourceVersion(); rv != "" && rv != em.GetResourceVersion() {
			return nil, apierrors.NewConflict(s.Resource, name, fmt.Errorf("%s", optimisticLockMsg))
		}
		// System metadata is the server's.
		m.SetResourceVersion(em.GetResourceVersion())
		m.SetUID(em.GetUID())
		m.SetCreationTimestamp(em.GetCreationTimestamp())
		m.SetDeletionTimestamp(em.GetDeletionTimestamp())
		m.SetDeletionGracePeriodSeconds(em.GetDeletionGracePeriodSeconds())
		if !s.Namespaced {
			m.SetNamespace("")
		}
		strategy.PrepareForUpdate(ctx, obj, old)
		errs := apivalidation.ValidateObjectMetaAccessorUpdate(m, em, field.NewPath("metadata"))
		errs = append(errs, strategy.ValidateUpdate(ctx, obj, old)...)
		if len(errs) > 0 {
			return nil, s.invalid(name, errs)
		}
		if validate != nil {
			if err := validate(ctx, obj, old); err != nil {
				return nil, err
			}
		}
		if updateAllocator != nil && !opts.DryRun {
			if undo, err = updateAllocator.AllocateUpdate(ctx, obj, old); err != nil {
				undo = func() {}
				return nil, err
			}
			lastObj, lastOld = obj, old
		}
		// An object being deleted goes away once its last finalizer is removed.
		deleteAfter = m.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) == 0 &&
			(m.GetDeletionGracePeriodSeconds() == nil || *m.GetDeletionGracePeriodSeconds() == 0)
		if f, ok := strategy.(registry.Finalizer); ok && deleteAfter {
			deleteAfter = f.Finalized(obj)
		}
		return obj, nil
	}

	if opts.DryRun {
		existing := s.NewFunc()
		if err := s.Storage.Get(ctx, key, storage.GetOptions{IgnoreNotFound: true}, existing); err != nil {
			return nil, false, s.statusError(err, name)
		}
		out, err := tryUpdate(existing)
		if err != nil {
			return nil, false, s.statusError(err, name)
		}
		return out, created, nil
	}
	out := s.NewFunc()
	err := s.Storage.GuaranteedUpdate(ctx, key, out, s.AllowCreateOnUpdate && !opts.Status, nil, tryUpdate)
	if err != nil {
		undo()
		return nil, false, s.statusError(err, name)
	}
	if lastObj != nil {
		updateAllocator.ReleaseUpdate(ctx, lastObj, lastOld)
	}
	if deleteAfter {
		m, _ := accessor(out)
		uid, rv := m.GetUID(), m.GetResourceVersion()
		deleted := s.NewFunc()
		err := s.Storage.Delete(ctx, key, deleted, &storage.Preconditions{UID: &uid, ResourceVersion: &rv}, nil)
		if err == nil {
			s.release(ctx, deleted)
			return deleted, false, nil
		}
		if !storage.IsNotFound(err) && !storage.IsConflict(err) {
			return nil, false, s.statusError(err, name)
		}
	}
	return out, created, nil
}

// prepareCreate runs the create path's metadata, defaults and validation on
// an object PUT to a missing name (create on update).
func (s *Store) prepareCreate(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
	m, err := accessor(obj)
	if err != nil {
		return nil, err
	}
	s.fillCreateMeta(m)
	s.Strategy.PrepareForCreate(ctx, obj)
	errs := apivalidation.ValidateObjectMetaAccessor(m, s.Namespaced, s.nameFunc(), field.NewPath("metadata"))
	errs = append(errs, s.Strategy.Validate(ctx, obj)...)
	if len(errs) > 0 {
		return nil, s.invalid(m.GetName(), errs)
	}
	if s.Namespaced && s.Namespaces != nil {
		if err := s.Namespaces.CheckNamespace(ctx, m.GetNamespace()); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

func (s *Store) release(ctx context.Context, obj runtime.Object) {
	if a, ok := s.Strategy.(registry.Allocator); ok {
		a.Release(ctx, obj)
	}
}
