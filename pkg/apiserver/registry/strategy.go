// Package registry describes the resources the apiserver serves: how each
// kind is defaulted, validated and selected, and the generic store that turns
// requests on them into storage operations.
package registry

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// Strategy holds the per-kind rules applied to writes of one resource or of
// one of its subresources (status). The generic store calls it; metadata
// common to every kind (name, generateName, namespace, uid, timestamps,
// labels and annotations syntax) is handled and validated by the store, not
// here. Implementations are stateless and safe for concurrent use; they may
// modify the objects they are given but never keep them.
type Strategy interface {
	// PrepareForCreate normalizes a new object before validation: it clears
	// what a client may not set on create (status for most kinds), and
	// applies the kind's defaults (upstream's SetDefaults_*).
	PrepareForCreate(ctx context.Context, obj runtime.Object)
	// Validate returns the problems of a new, defaulted object, with field
	// paths as upstream reports them (spec.containers[0].image, …). An empty
	// list means valid.
	Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	// PrepareForUpdate normalizes an updated object given the stored one:
	// the main resource keeps old's status, the status subresource keeps
	// old's spec (and metadata other than labels/annotations where upstream
	// does), then defaults are applied.
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object)
	// ValidateUpdate returns the problems of an update, including changes to
	// fields upstream makes immutable.
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
}

// AttrFunc returns the labels and the selectable fields of an object, for
// label and field selectors. The field set holds exactly the fields upstream
// supports for the kind (always metadata.name, and metadata.namespace for
// namespaced kinds); a selector on any other field is rejected with 400.
type AttrFunc = storage.AttrFunc

// GracefulDeleter is implemented by strategies of kinds that are deleted
// gracefully (pods). CheckGracefulDelete decides the grace period of a
// delete request: it may change options.GracePeriodSeconds (defaulting it
// from the object, or to 0 where deletion must be immediate, e.g. a pod not
// bound to a node) and reports whether the deletion is graceful — the store
// then sets deletionTimestamp and deletionGracePeriodSeconds and keeps the
// object — or immediate.
type GracefulDeleter interface {
	CheckGracefulDelete(ctx context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool
}

// Finalizer is implemented by strategies of kinds that hold finalizers of
// their own besides metadata.finalizers (a namespace's spec.finalizers). An
// update that leaves an object being deleted without metadata.finalizers
// removes it only when Finalized(obj) also reports true, as upstream's
// ShouldDeleteDuringUpdate hook of the namespace store does; without this
// a status update of a Terminating namespace would delete it before the
// namespace controller emptied it. Finalized must not modify obj.
type Finalizer interface {
	Finalized(obj runtime.Object) bool
}

// Allocator is implemented by strategies whose kind holds a resource that
// must be unique across objects (a Service's cluster IP). The store calls
// Allocate after validation and before storing a new object, calls the
// returned undo when storing fails, and Release after an object is removed.
// Allocate may set fields of obj (spec.clusterIP) and returns a field error
// (422) for a requested value that is taken or out of range.
type Allocator interface {
	Allocate(ctx context.Context, obj runtime.Object) (undo func(), err error)
	Release(ctx context.Context, obj runtime.Object)
}

// UpdateAllocator is implemented by Allocators whose held resources can
// change on update (a Service's type change to or from ExternalName,
// NodePort or LoadBalancer). The store calls AllocateUpdate after
// ValidateUpdate — again, after undoing the previous attempt, when a
// conflicting writer makes it retry — calls undo when the write fails, and
// ReleaseUpdate (what old held and obj no longer does) after it succeeded.
type UpdateAllocator interface {
	AllocateUpdate(ctx context.Context, obj, old runtime.Object) (undo func(), err error)
	ReleaseUpdate(ctx context.Context, obj, old runtime.Object)
}
