package controller

import (
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
)

// KeyOf returns the queue key of an informer object: "namespace/name", or
// "name" for a cluster-scoped object. It accepts the tombstones
// (cache.DeletedFinalStateUnknown) informers hand to delete handlers.
func KeyOf(obj any) (string, error) {
	return cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
}

// Object returns obj as a T, unwrapping a tombstone; ok is false when obj
// (or the tombstone's object) is not a T. Use it in Filter and Keys
// functions and delete handlers:
//
//	pod, ok := controller.Object[*corev1.Pod](obj)
func Object[T any](obj any) (t T, ok bool) {
	if d, isTombstone := obj.(cache.DeletedFinalStateUnknown); isTombstone {
		obj = d.Obj
	}
	t, ok = obj.(T)
	return t, ok
}

// Enqueue adds obj's key (see KeyOf); an object without one is logged and
// skipped.
func (l *Loop) Enqueue(obj any) {
	key, err := KeyOf(obj)
	if err != nil {
		l.logger.Error("cannot enqueue object", "err", err)
		return
	}
	l.EnqueueKey(key)
}

// EnqueueKey adds key. A key already waiting is not added twice; a key
// being synced is synced again after the current sync.
func (l *Loop) EnqueueKey(key string) {
	l.stats.adds.Add(1)
	l.queue.Add(key)
}

// EnqueueAfter adds obj's key once d has passed on the loop's clock.
func (l *Loop) EnqueueAfter(obj any, d time.Duration) {
	key, err := KeyOf(obj)
	if err != nil {
		l.logger.Error("cannot enqueue object", "err", err)
		return
	}
	l.EnqueueKeyAfter(key, d)
}

// EnqueueKeyAfter adds key once d has passed on the loop's clock (at once
// when d <= 0). Of several pending delays for one key the earliest wins.
func (l *Loop) EnqueueKeyAfter(key string, d time.Duration) {
	l.stats.adds.Add(1)
	l.queue.AddAfter(key, d)
}

// HandlerOptions shape what Handler enqueues. The zero value enqueues the
// key of every added, updated and deleted object.
type HandlerOptions struct {
	// Filter, when set, ignores the objects it returns false for. On an
	// update, the old and the new object are each considered, so an
	// object that stops matching is still enqueued once.
	Filter func(obj any) bool
	// Keys, when set, maps an object to the keys to enqueue instead of its
	// own (for example a pod to its owning ReplicaSet: ControllerKeys).
	// On an update, the keys of the old and the new object are enqueued.
	Keys func(obj any) []string
	// SkipResync ignores updates whose resourceVersion did not change:
	// the informer's periodic resyncs.
	SkipResync bool
}

// Handler returns an informer event handler that enqueues keys on add,
// update and delete as opts say. Filter and Keys get tombstones unwrapped.
func (l *Loop) Handler(opts HandlerOptions) cache.ResourceEventHandler {
	enqueue := func(objs ...any) {
		var keys []string
		for _, obj := range objs {
			for _, k := range l.keysOf(obj, opts) {
				if !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
		for _, k := range keys {
			l.EnqueueKey(k)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { enqueue(obj) },
		UpdateFunc: func(oldObj, newObj any) {
			if opts.SkipResync && sameVersion(oldObj, newObj) {
				return
			}
			enqueue(oldObj, newObj)
		},
		DeleteFunc: func(obj any) { enqueue(obj) },
	}
}

// keysOf returns the keys opts map obj to.
func (l *Loop) keysOf(obj any, opts HandlerOptions) []string {
	if opts.Filter == nil && opts.Keys == nil {
		key, err := KeyOf(obj) // handles tombstones, even those without an object
		if err != nil {
			l.logger.Error("cannot enqueue object", "err", err)
			return nil
		}
		return []string{key}
	}
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		if d.Obj == nil {
			return nil
		}
		obj = d.Obj
	}
	if opts.Filter != nil && !opts.Filter(obj) {
		return nil
	}
	if opts.Keys != nil {
		return opts.Keys(obj)
	}
	key, err := KeyOf(obj)
	if err != nil {
		l.logger.Error("cannot enqueue object", "err", err)
		return nil
	}
	return []string{key}
}

func sameVersion(a, b any) bool {
	am, aok := a.(metav1.Object)
	bm, bok := b.(metav1.Object)
	return aok && bok && am.GetResourceVersion() == bm.GetResourceVersion()
}

// ControllerKeys returns a HandlerOptions.Keys function mapping an object
// to the key of its controller: the ownerReference with controller=true
// whose apiVersion's group and kind are gk, in the object's namespace.
// Objects without such an owner map to nothing. The owner's UID is not
// checked: sync must check it against the object it reads.
func ControllerKeys(gk schema.GroupKind) func(obj any) []string {
	return func(obj any) []string {
		m, ok := Object[metav1.Object](obj)
		if !ok {
			return nil
		}
		ref := metav1.GetControllerOfNoCopy(m)
		if ref == nil || ref.Kind != gk.Kind {
			return nil
		}
		gv, err := schema.ParseGroupVersion(ref.APIVersion)
		if err != nil || gv.Group != gk.Group {
			return nil
		}
		if ns := m.GetNamespace(); ns != "" {
			return []string{ns + "/" + ref.Name}
		}
		return []string{ref.Name}
	}
}
