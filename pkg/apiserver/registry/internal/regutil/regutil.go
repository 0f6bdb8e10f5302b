package regutil

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
)

// MetaFields returns the selectable fields every object has: metadata.name,
// and metadata.namespace for namespaced kinds, merged with extra (which may be
// nil). The returned set is new; extra is not modified.
func MetaFields(meta *metav1.ObjectMeta, namespaced bool, extra fields.Set) fields.Set {
	set := make(fields.Set, len(extra)+2)
	for k, v := range extra {
		set[k] = v
	}
	set["metadata.name"] = meta.Name
	if namespaced {
		set["metadata.namespace"] = meta.Namespace
	}
	return set
}

// BumpGeneration implements upstream's generation rule for kinds that track
// it: the update keeps old's generation (clients cannot set it) and adds one
// when changed is true (the spec, or what else the kind counts, changed).
func BumpGeneration(newMeta, oldMeta *metav1.ObjectMeta, changed bool) {
	newMeta.Generation = oldMeta.Generation
	if changed {
		newMeta.Generation++
	}
}

// Cast asserts obj to T. A mismatch is a programming error in the wiring of
// the store (a strategy registered for the wrong kind) and panics with a
// message naming both types.
func Cast[T runtime.Object](obj runtime.Object) T {
	t, ok := obj.(T)
	if !ok {
		var want T
		panic(fmt.Sprintf("registry: strategy for %T called with %T", want, obj))
	}
	return t
}

// AttrsOf asserts obj to T for an AttrFunc, returning an error rather than
// panicking because selectors may be evaluated on objects from any source.
func AttrsOf[T runtime.Object](obj runtime.Object) (T, error) {
	t, ok := obj.(T)
	if !ok {
		var want T
		return want, fmt.Errorf("not a %T: %T", want, obj)
	}
	return t, nil
}
