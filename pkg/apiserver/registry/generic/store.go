// Package generic implements the store every resource is served through: it
// turns API verbs (create, get, list, update, delete, watch) into storage
// operations, applying the resource's Strategy and the metadata rules common
// to all kinds, and reports failures as API status errors.
package generic

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// NamespaceChecker tells whether objects may be created in a namespace:
// NotFound when it does not exist, Forbidden while it is terminating.
type NamespaceChecker interface {
	CheckNamespace(ctx context.Context, namespace string) error
}

// Store serves one resource over a storage.Interface. Fields are set once
// before use; a Store is then safe for concurrent use.
type Store struct {
	// Resource names the resource in errors ("pods", group "").
	Resource schema.GroupResource
	// Kind is the kind stored, for Invalid errors and delete status details.
	Kind schema.GroupVersionKind
	// Namespaced resources live under a namespace.
	Namespaced bool
	// KeyRoot is the storage key prefix, e.g. "/pods" or "/services/specs",
	// below the apiserver's --etcd-prefix.
	KeyRoot string
	// NewFunc and NewListFunc return empty objects of the kind and its list.
	NewFunc     func() runtime.Object
	NewListFunc func() runtime.Object
	// Strategy applies to the main resource; StatusStrategy, when set, to the
	// status subresource.
	Strategy       registry.Strategy
	StatusStrategy registry.Strategy
	// GetAttrs gives labels and selectable fields; nil means name (and
	// namespace) only.
	GetAttrs registry.AttrFunc
	// NameFunc validates metadata.name; nil means a DNS subdomain.
	NameFunc apivalidation.ValidateNameFunc
	// Storage holds the objects.
	Storage storage.Interface
	// Namespaces checks the namespace of creates; nil skips the check.
	Namespaces NamespaceChecker
	// Clock stamps creation and deletion times.
	Clock clock.PassiveClock
	// TTL, when set, gives the seconds after which a created object expires
	// (events).
	TTL func(obj runtime.Object) uint64
	// AllowCreateOnUpdate lets PUT create a missing object (upstream allows it
	// for a few kinds, e.g. leases and endpoints).
	AllowCreateOnUpdate bool
}

// New returns an empty object of the kind.
func (s *Store) New() runtime.Object { return s.NewFunc() }

// Mutate changes namespace/name with fn atomically, bypassing the strategy:
// for server-side operations with rules of their own (pods/binding, a
// namespace's finalize). fn may run several times; it must not keep obj.
func (s *Store) Mutate(ctx context.Context, namespace, name string, fn func(obj runtime.Object) error) (runtime.Object, error) {
	out := s.NewFunc()
	err := s.Storage.GuaranteedUpdate(ctx, s.Key(namespace, name), out, false, nil, func(existing runtime.Object) (runtime.Object, error) {
		if err := fn(existing); err != nil {
			return nil, err
		}
		return existing, nil
	})
	if err != nil {
		return nil, s.statusError(err, name)
	}
	return out, nil
}

// Key returns the storage key of an object.
func (s *Store) Key(namespace, name string) string {
	if s.Namespaced {
		return s.KeyRoot + "/" + namespace + "/" + name
	}
	return s.KeyRoot + "/" + name
}

// prefix returns the key prefix of a list or watch in namespace ("" = all).
func (s *Store) prefix(namespace string) string {
	if s.Namespaced && namespace != "" {
		return s.KeyRoot + "/" + namespace + "/"
	}
	return s.KeyRoot + "/"
}

func (s *Store) statusError(err error, name string) error {
	if err == nil {
		return nil
	}
	return storage.ToStatusError(err, s.Resource, name)
}

func (s *Store) invalid(name string, errs field.ErrorList) error {
	return apierrors.NewInvalid(s.Kind.GroupKind(), name, errs)
}

func (s *Store) attrs() registry.AttrFunc {
	if s.GetAttrs != nil {
		return s.GetAttrs
	}
	if s.Namespaced {
		return storage.DefaultNamespaceScopedAttrs
	}
	return storage.DefaultClusterScopedAttrs
}

func (s *Store) nameFunc() apivalidation.ValidateNameFunc {
	if s.NameFunc != nil {
		return s.NameFunc
	}
	return apivalidation.NameIsDNSSubdomain
}

// Get returns the object namespace/name. opts.ResourceVersion as upstream.
func (s *Store) Get(ctx context.Context, namespace, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	out := s.NewFunc()
	rv := ""
	if opts != nil {
		rv = opts.ResourceVersion
	}
	if err := s.Storage.Get(ctx, s.Key(namespace, name), storage.GetOptions{ResourceVersion: rv}, out); err != nil {
		return nil, s.statusError(err, name)
	}
	return out, nil
}

func accessor(obj runtime.Object) (metav1.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("object has no metadata: %w", err))
	}
	return m, nil
}
