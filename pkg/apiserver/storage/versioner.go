package storage

import (
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
)

// Versioner reads and writes the resourceVersion of objects and lists. Storage
// implementations use it to stamp what they return with etcd revisions.
type Versioner interface {
	// UpdateObject sets obj's metadata.resourceVersion to rv ("" when rv is 0).
	UpdateObject(obj runtime.Object, rv uint64) error
	// UpdateList sets a list's resourceVersion, continue token and remaining item
	// count (nil to unset).
	UpdateList(list runtime.Object, rv uint64, next string, remaining *int64) error
	// PrepareObjectForStorage clears what is never persisted: resourceVersion and
	// the deprecated selfLink.
	PrepareObjectForStorage(obj runtime.Object) error
	// ObjectResourceVersion returns obj's resourceVersion (0 when unset).
	ObjectResourceVersion(obj runtime.Object) (uint64, error)
}

// APIObjectVersioner is the Versioner of objects with Kubernetes object metadata,
// through meta.Accessor and meta.ListAccessor.
type APIObjectVersioner struct{}

var _ Versioner = APIObjectVersioner{}

// UpdateObject implements Versioner.
func (APIObjectVersioner) UpdateObject(obj runtime.Object, rv uint64) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return fmt.Errorf("set resourceVersion: %w", err)
	}
	m.SetResourceVersion(FormatResourceVersion(rv))
	return nil
}

// UpdateList implements Versioner.
func (APIObjectVersioner) UpdateList(list runtime.Object, rv uint64, next string, remaining *int64) error {
	if rv == 0 {
		return fmt.Errorf("set list resourceVersion: revision must be positive")
	}
	m, err := meta.ListAccessor(list)
	if err != nil {
		return fmt.Errorf("set list resourceVersion: %w", err)
	}
	m.SetResourceVersion(FormatResourceVersion(rv))
	m.SetContinue(next)
	m.SetRemainingItemCount(remaining)
	return nil
}

// PrepareObjectForStorage implements Versioner.
func (APIObjectVersioner) PrepareObjectForStorage(obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return fmt.Errorf("prepare object for storage: %w", err)
	}
	m.SetResourceVersion("")
	m.SetSelfLink("")
	return nil
}

// ObjectResourceVersion implements Versioner.
func (APIObjectVersioner) ObjectResourceVersion(obj runtime.Object) (uint64, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return 0, fmt.Errorf("get resourceVersion: %w", err)
	}
	return ParseResourceVersion(m.GetResourceVersion())
}

// ParseResourceVersion parses a resourceVersion as sent by clients: "" is 0, and
// anything but a non-negative decimal integer is an error.
func ParseResourceVersion(rv string) (uint64, error) {
	if rv == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(rv, 10, 64)
	if err != nil || v > 1<<63-1 {
		return 0, fmt.Errorf("invalid resource version %q", rv)
	}
	return v, nil
}

// FormatResourceVersion formats a revision as a resourceVersion ("" for 0).
func FormatResourceVersion(rv uint64) string {
	if rv == 0 {
		return ""
	}
	return strconv.FormatUint(rv, 10)
}
