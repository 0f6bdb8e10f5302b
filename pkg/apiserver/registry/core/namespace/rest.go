package namespace

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// finalizeSubresource is namespaces/{name}/finalize.
func finalizeSubresource() registry.Subresource {
	return registry.Subresource{Name: "finalize", Verbs: []string{"update"},
		View: func(st registry.Store) registry.View { return finalizeView{store: st} }}
}

// namespaceStorage deletes namespaces as upstream does: the first delete
// marks the namespace Terminating (deletionTimestamp set, phase Terminating)
// and keeps it while spec.finalizers is not empty; the namespace controller
// empties it and finalizes it. A namespace without finalizers goes at once.
// The validating admission the request carries (registry.WithValidation)
// runs on the stored namespace first.
type namespaceStorage struct {
	registry.Store
	clock clock.PassiveClock
}

func (s namespaceStorage) Delete(ctx context.Context, _, name string, opts *metav1.DeleteOptions, dryRun bool) (runtime.Object, bool, error) {
	ctx, validate := registry.TakeValidation(ctx)
	obj, err := s.Store.Get(ctx, "", name, nil)
	if err != nil {
		return nil, false, err
	}
	ns := obj.(*corev1.Namespace)
	if opts != nil && opts.Preconditions != nil {
		if uid := opts.Preconditions.UID; uid != nil && *uid != ns.UID {
			return nil, false, apierrors.NewConflict(schema.GroupResource{Resource: "namespaces"}, name,
				fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *uid, ns.UID))
		}
	}
	if validate != nil {
		if err := validate(ctx, nil, obj); err != nil {
			return nil, false, err
		}
	}
	if len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 {
		return s.Store.Delete(ctx, "", name, opts, dryRun)
	}
	if dryRun {
		return obj, false, nil
	}
	out, err := s.Store.Mutate(ctx, "", name, func(o runtime.Object) error {
		n := o.(*corev1.Namespace)
		if n.DeletionTimestamp == nil {
			now := metav1.NewTime(s.clock.Now())
			n.DeletionTimestamp = &now
			zero := int64(0)
			n.DeletionGracePeriodSeconds = &zero
		}
		n.Status.Phase = corev1.NamespaceTerminating
		return nil
	})
	return out, false, err
}

// finalizeView serves namespaces/{name}/finalize: an update that may only
// change spec.finalizers; when they are gone from a terminating namespace,
// the namespace is removed.
type finalizeView struct{ store registry.Store }

func (v finalizeView) New() runtime.Object { return &corev1.Namespace{} }
func (v finalizeView) Get(ctx context.Context, ns, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return v.store.Get(ctx, "", name, opts)
}

func (v finalizeView) Update(ctx context.Context, _, name string, update registry.UpdateFunc, dryRun bool) (runtime.Object, bool, error) {
	// The request's validating admission runs on each attempt, on the
	// finalized namespace; the delete that may follow is not admitted again.
	ctx, validate := registry.TakeValidation(ctx)
	var gone bool
	mutate := func(o runtime.Object) error {
		n := o.(*corev1.Namespace)
		old := n.DeepCopy()
		desired, err := update(ctx, n.DeepCopy())
		if err != nil {
			return err
		}
		n.Spec.Finalizers = desired.(*corev1.Namespace).Spec.Finalizers
		if validate != nil {
			if err := validate(ctx, n, old); err != nil {
				return err
			}
		}
		gone = n.DeletionTimestamp != nil && len(n.Spec.Finalizers) == 0 && len(n.Finalizers) == 0
		return nil
	}
	if dryRun {
		cur, err := v.store.Get(ctx, "", name, nil)
		if err != nil {
			return nil, false, err
		}
		return cur, false, mutate(cur)
	}
	out, err := v.store.Mutate(ctx, "", name, mutate)
	if err != nil {
		return nil, false, err
	}
	if gone {
		if _, _, err := v.store.Delete(ctx, "", name, nil, false); err != nil && !apierrors.IsNotFound(err) {
			return nil, false, err
		}
	}
	return out, false, nil
}

var _ registry.View = finalizeView{}
