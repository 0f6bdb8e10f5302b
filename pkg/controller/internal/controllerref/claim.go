// Package controllerref adopts and releases objects by selector, as
// upstream's ControllerRefManager: an owner claims the orphans its
// selector matches and releases the objects it controls that the selector
// no longer matches. The daemonset and statefulset controllers claim their
// pods and ControllerRevisions with it.
package controllerref

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// Claimer claims objects for Owner.
type Claimer struct {
	// Owner claims; Kind is its kind (for the ownerReference).
	Owner metav1.Object
	Kind  schema.GroupVersionKind
	// Selector says which objects Owner wants.
	Selector labels.Selector
	// Recheck reads Owner from the API (not a cache) and fails when it is
	// gone, replaced or being deleted; called once, before the first
	// adoption.
	Recheck func(ctx context.Context) error
	// Patch applies a strategic merge patch to the object named name.
	Patch func(ctx context.Context, name string, patch []byte) error
}

// Claim adopts the orphans of objs that Selector matches, releases those
// Owner controls that it does not match, and returns the objects Owner
// controls after that. A 404 is not an error; the first other error is
// returned after every object was tried.
func Claim[T metav1.Object](ctx context.Context, c Claimer, objs []T) ([]T, error) {
	var claimed []T
	var errs []error
	var canAdopt *error
	owner := c.Owner
	for _, obj := range objs {
		ref := metav1.GetControllerOfNoCopy(obj)
		matches := c.Selector.Matches(labels.Set(obj.GetLabels()))
		switch {
		case ref != nil && ref.UID != owner.GetUID():
			// Someone else's.
		case ref != nil && matches:
			claimed = append(claimed, obj)
		case ref != nil:
			if owner.GetDeletionTimestamp() != nil {
				continue
			}
			err := c.Patch(ctx, obj.GetName(), replicaset.ReleasePatch(owner.GetUID(), obj.GetUID()))
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				errs = append(errs, err)
			}
		case owner.GetDeletionTimestamp() != nil || !matches || obj.GetDeletionTimestamp() != nil || obj.GetNamespace() != owner.GetNamespace():
		default:
			if canAdopt == nil {
				err := c.Recheck(ctx)
				canAdopt = &err
			}
			if *canAdopt != nil {
				errs = append(errs, fmt.Errorf("can't adopt %s/%s (%s): %w", obj.GetNamespace(), obj.GetName(), obj.GetUID(), *canAdopt))
				continue
			}
			ownerRef := replicaset.ControllerRef(owner, c.Kind.Kind, c.Kind.GroupVersion().String())
			err := c.Patch(ctx, obj.GetName(), replicaset.AdoptPatch(ownerRef, obj.GetUID()))
			switch {
			case err == nil:
				claimed = append(claimed, obj)
			case apierrors.IsNotFound(err):
			default:
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return claimed, errs[0]
	}
	return claimed, nil
}

// Recheck returns a Claimer.Recheck from a fresh read: get returns the
// owner's current UID and deletion timestamp.
func Recheck(kind, ns, name string, uid types.UID, get func(ctx context.Context) (metav1.Object, error)) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		fresh, err := get(ctx)
		if err != nil {
			return fmt.Errorf("can't recheck DeletionTimestamp: %w", err)
		}
		if fresh.GetUID() != uid {
			return fmt.Errorf("original %s %s/%s is gone: got uid %s, wanted %s", kind, ns, name, fresh.GetUID(), uid)
		}
		if fresh.GetDeletionTimestamp() != nil {
			return fmt.Errorf("%s %s/%s has just been deleted at %v", kind, ns, name, fresh.GetDeletionTimestamp())
		}
		return nil
	}
}
