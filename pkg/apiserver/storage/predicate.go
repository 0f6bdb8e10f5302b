package storage

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// AttrFunc returns the labels and the selectable fields of an object, e.g.
// {"metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"} for pods.
type AttrFunc func(obj runtime.Object) (labels.Set, fields.Set, error)

// SelectionPredicate selects objects by label and field selectors. The zero value
// (and any predicate whose selectors are nil or empty) matches everything.
type SelectionPredicate struct {
	Label labels.Selector
	Field fields.Selector
	// GetAttrs extracts what the selectors look at; nil means
	// DefaultNamespaceScopedAttrs.
	GetAttrs AttrFunc
}

// Empty tells whether p matches every object.
func (p SelectionPredicate) Empty() bool {
	return (p.Label == nil || p.Label.Empty()) && (p.Field == nil || p.Field.Empty())
}

// Matches tells whether obj is selected by p.
func (p SelectionPredicate) Matches(obj runtime.Object) (bool, error) {
	if p.Empty() {
		return true, nil
	}
	l, f, err := p.attrs(obj)
	if err != nil {
		return false, err
	}
	return p.MatchesObjectAttributes(l, f), nil
}

// MatchesObjectAttributes tells whether an object with labels l and fields f is
// selected by p.
func (p SelectionPredicate) MatchesObjectAttributes(l labels.Set, f fields.Set) bool {
	if p.Label != nil && !p.Label.Empty() && !p.Label.Matches(l) {
		return false
	}
	if p.Field != nil && !p.Field.Empty() && !p.Field.Matches(f) {
		return false
	}
	return true
}

func (p SelectionPredicate) attrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	if p.GetAttrs != nil {
		return p.GetAttrs(obj)
	}
	return DefaultNamespaceScopedAttrs(obj)
}

// DefaultNamespaceScopedAttrs returns obj's labels and the fields every
// namespaced resource supports: metadata.name and metadata.namespace.
func DefaultNamespaceScopedAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("get object metadata: %w", err)
	}
	return labels.Set(m.GetLabels()), fields.Set{
		"metadata.name":      m.GetName(),
		"metadata.namespace": m.GetNamespace(),
	}, nil
}

// DefaultClusterScopedAttrs returns obj's labels and metadata.name, the only field
// every cluster-scoped resource supports.
func DefaultClusterScopedAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("get object metadata: %w", err)
	}
	return labels.Set(m.GetLabels()), fields.Set{"metadata.name": m.GetName()}, nil
}

// Check returns a Conflict error when p does not hold on obj, stored at key. A nil
// p always holds.
func (p *Preconditions) Check(key string, obj runtime.Object) error {
	if p == nil {
		return nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return NewInvalidObjError(key, err)
	}
	rv, _ := ParseResourceVersion(m.GetResourceVersion())
	if p.UID != nil && *p.UID != m.GetUID() {
		return NewConflictError(key, int64(rv), fmt.Sprintf(
			"Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
	}
	if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
		return NewConflictError(key, int64(rv), OptimisticLockErrorMsg)
	}
	return nil
}
