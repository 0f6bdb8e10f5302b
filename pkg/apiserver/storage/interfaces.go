package storage

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Interface stores API objects under keys such as "/pods/default/nginx". One value
// serves one resource: it decodes what it reads into that resource's Go types.
//
// Every method is safe for concurrent use. Errors that callers act on are
// *StorageError values (test them with IsNotFound, IsExists, IsConflict, ...);
// anything else (a dead etcd, a cancelled context) is returned wrapped and should
// be answered as an internal error. Objects returned through out, dest and list
// parameters are freshly decoded and owned by the caller; objects in watch events
// may be shared between watchers and must be treated as read-only.
type Interface interface {
	// Create stores obj under key if, and only if, nothing is stored there, and
	// decodes the stored object into out with its new resourceVersion. obj must not
	// carry a resourceVersion (InvalidObj otherwise); Create clears the fields that
	// are never persisted (resourceVersion) on obj itself. A ttl > 0 makes the key
	// expire ttl seconds later (as Events do), and the expiry survives updates.
	// out may be nil. Errors: KeyExists when key is taken.
	Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error

	// Get decodes the object at key into out. opts.ResourceVersion "" reads the most
	// recent state (quorum read), "0" any state (served as the most recent), and "N"
	// a state not older than N: TooLargeResourceVersion when the store has not
	// reached N. Errors: NotFound unless opts.IgnoreNotFound, in which case out is
	// set to its zero value and nil returned.
	Get(ctx context.Context, key string, opts GetOptions, out runtime.Object) error

	// GetList lists the objects under key (opts.Recursive) or the single object at
	// key, filtered by opts.Predicate, into listObj (a *XxxList). It sets the list's
	// resourceVersion, continue and remainingItemCount. See ListOptions for the
	// resourceVersion, limit and continue semantics; errors: BadRequest,
	// InvalidContinue, ResourceVersionExpired (compacted revision, with a fresh
	// continue token when paging), TooLargeResourceVersion.
	GetList(ctx context.Context, key string, opts ListOptions, listObj runtime.Object) error

	// GuaranteedUpdate reads the object at key, passes it to tryUpdate and writes
	// the result with a compare-and-swap on the revision it read; when another
	// writer got there first it re-reads and calls tryUpdate again, so tryUpdate
	// may run several times and must not have side effects other than computing
	// its result. The existing object given to tryUpdate is a fresh copy with its
	// resourceVersion set; tryUpdate may modify and return it. The result is
	// decoded into dest with its new resourceVersion. Returning the existing object
	// unchanged writes nothing (dest gets the current state and revision).
	//
	// preconditions are checked against every state read, so an optimistic update
	// ("replace the object at resourceVersion R") is GuaranteedUpdate with
	// Preconditions{ResourceVersion: &R}: it fails with Conflict as soon as the
	// stored object is no longer at R. An error returned by tryUpdate aborts the
	// update and is returned unchanged.
	//
	// When nothing is stored at key: NotFound, unless ignoreNotFound, in which case
	// tryUpdate gets a zero-value object (empty resourceVersion) and its result is
	// created (the update-creates-the-object semantics of PUT).
	GuaranteedUpdate(ctx context.Context, key string, dest runtime.Object, ignoreNotFound bool,
		preconditions *Preconditions, tryUpdate UpdateFunc) error

	// Delete removes the object at key when preconditions hold and validateDeletion
	// (may be nil) accepts the current object; both are re-checked if the object
	// changes underneath. out receives the deleted object with resourceVersion set
	// to the revision of the deletion (the resourceVersion of the DELETED watch
	// event); it may be nil. Errors: NotFound, Conflict (precondition), or
	// validateDeletion's error unchanged.
	Delete(ctx context.Context, key string, out runtime.Object, preconditions *Preconditions,
		validateDeletion ValidateObjectFunc) error

	// Watch streams the changes under key (opts.Recursive) or of the single key.
	// opts.ResourceVersion "" or "0" first sends an ADDED event for every object
	// currently stored (that matches the predicate), then the changes after that
	// state; "N" sends exactly the changes after revision N. A revision that is no
	// longer retained is answered, not with an error, but with a watch whose only
	// event is an ERROR carrying a *metav1.Status with code 410 and reason Expired.
	// An object that stops matching the predicate is sent as DELETED (its last
	// matching state with the revision of the change) and one that starts matching
	// as ADDED. BOOKMARK events (an empty object with only resourceVersion set) are
	// sent when opts.AllowWatchBookmarks and the implementation supports them.
	// The watch ends when ctx is done or Stop is called; its result channel is then
	// closed. Errors from Watch itself: BadRequest (bad resourceVersion),
	// TooLargeResourceVersion.
	Watch(ctx context.Context, key string, opts ListOptions) (watch.Interface, error)

	// GetCurrentResourceVersion returns the current revision of the store (a quorum
	// read), i.e. the resourceVersion a list issued now would report.
	GetCurrentResourceVersion(ctx context.Context) (uint64, error)
}

// ProgressRequester is implemented by stores whose watches can be asked for a
// BOOKMARK carrying the store's current revision (etcd's progress notification).
// The cacher uses it so that bookmarks advance while its resource is idle.
type ProgressRequester interface {
	// RequestWatchProgress asks every open watch that was opened with
	// ListOptions.ProgressNotify to emit a BOOKMARK at the current revision as soon
	// as it has delivered every event up to it. It does not wait for the bookmarks.
	RequestWatchProgress(ctx context.Context) error
}

// UpdateFunc computes the new state of an object from its current one; see
// Interface.GuaranteedUpdate.
type UpdateFunc func(existing runtime.Object) (runtime.Object, error)

// ValidateObjectFunc vetoes an operation on the current state of an object by
// returning an error.
type ValidateObjectFunc func(ctx context.Context, obj runtime.Object) error

// GetOptions are the options of Interface.Get.
type GetOptions struct {
	// IgnoreNotFound makes a missing key a success with a zero-value out.
	IgnoreNotFound bool
	// ResourceVersion: "" most recent, "0" any, "N" not older than N.
	ResourceVersion string
}

// ListOptions are the options of Interface.GetList and Interface.Watch.
//
// List semantics, as kube-apiserver's (ResourceVersionMatch unset):
//   - ResourceVersion "": the most recent state (quorum read);
//   - "0": any state, served as the most recent;
//   - "N" without Limit: a state not older than N (TooLargeResourceVersion when the
//     store has not reached N); "N" with Limit: exactly revision N
//     (ResourceVersionExpired when N was compacted);
//   - Continue: the next page at the revision pinned in the token; combining it
//     with a ResourceVersion other than "" or "0" is BadRequest.
//
// ResourceVersionMatch Exact reads exactly revision N; NotOlderThan reads the most
// recent state and fails if it is older than N. The HTTP layer rejects the
// combinations kube-apiserver rejects with 422 (match without resourceVersion,
// match with continue, Exact with "0") before calling storage.
type ListOptions struct {
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch
	// Limit > 0 returns at most Limit matching items and a continue token when more
	// may remain; pages keep being read until Limit items matched or the end.
	Limit int64
	// Continue is the token of the previous page (metadata.continue).
	Continue string
	// Predicate filters objects; the zero value matches everything.
	Predicate SelectionPredicate
	// Recursive lists or watches every key under the key prefix instead of the key.
	Recursive bool

	// AllowWatchBookmarks lets a watch send BOOKMARK events.
	AllowWatchBookmarks bool
	// ProgressNotify asks a watch for BOOKMARK events carrying the store's revision
	// when it is idle (and on RequestWatchProgress). Used by the cacher.
	ProgressNotify bool
	// SendInitialEvents is the WatchList parameter. Storage does not implement it:
	// the HTTP layer answers it with 422, and implementations return BadRequest
	// when it is set.
	SendInitialEvents *bool
}

// Preconditions must hold on the stored object for an update or delete to go on;
// otherwise the operation fails with a Conflict error.
type Preconditions struct {
	UID             *types.UID
	ResourceVersion *string
}
