package generic

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// List returns the objects of namespace ("" = all namespaces, or a
// cluster-scoped resource) selected by opts, paged by opts.Limit/Continue.
func (s *Store) List(ctx context.Context, namespace string, opts *metav1.ListOptions) (runtime.Object, error) {
	sopts, err := s.listOptions(opts)
	if err != nil {
		return nil, err
	}
	if opts != nil {
		sopts.Limit = opts.Limit
		sopts.Continue = opts.Continue
	}
	list := s.NewListFunc()
	if err := s.Storage.GetList(ctx, s.prefix(namespace), sopts, list); err != nil {
		return nil, s.statusError(err, "")
	}
	return list, nil
}

// Watch streams the changes of the objects of namespace selected by opts,
// starting after opts.ResourceVersion ("" and "0": first the current state).
func (s *Store) Watch(ctx context.Context, namespace string, opts *metav1.ListOptions) (watch.Interface, error) {
	sopts, err := s.listOptions(opts)
	if err != nil {
		return nil, err
	}
	if opts != nil {
		sopts.AllowWatchBookmarks = opts.AllowWatchBookmarks
		sopts.SendInitialEvents = opts.SendInitialEvents
	}
	// A watch of one object (fieldSelector=metadata.name=X, as kubectl and
	// client-go send) still watches the prefix: the predicate filters.
	w, err := s.Storage.Watch(ctx, s.prefix(namespace), sopts)
	if err != nil {
		return nil, s.statusError(err, "")
	}
	return w, nil
}

// listOptions turns API list options into storage options, rejecting
// selectors on fields the resource does not support with 400, as upstream.
func (s *Store) listOptions(opts *metav1.ListOptions) (storage.ListOptions, error) {
	if opts == nil {
		opts = &metav1.ListOptions{}
	}
	pred := storage.SelectionPredicate{GetAttrs: s.attrs()}
	if opts.LabelSelector != "" {
		sel, err := labels.Parse(opts.LabelSelector)
		if err != nil {
			return storage.ListOptions{}, apierrors.NewBadRequest(fmt.Sprintf("unable to parse requirement: %v", err))
		}
		pred.Label = sel
	}
	if opts.FieldSelector != "" {
		sel, err := fields.ParseSelector(opts.FieldSelector)
		if err != nil {
			return storage.ListOptions{}, apierrors.NewBadRequest(err.Error())
		}
		supported, err := s.supportedFields()
		if err != nil {
			return storage.ListOptions{}, err
		}
		for _, r := range sel.Requirements() {
			if _, ok := supported[r.Field]; !ok {
				return storage.ListOptions{}, apierrors.NewBadRequest(fmt.Sprintf(
					"field label not supported: %s", r.Field))
			}
		}
		pred.Field = sel
	}
	return storage.ListOptions{
		ResourceVersion:      opts.ResourceVersion,
		ResourceVersionMatch: opts.ResourceVersionMatch,
		Predicate:            pred,
		Recursive:            true,
	}, nil
}

// supportedFields returns the field names the resource's selectors accept:
// the keys GetAttrs yields for an empty object.
func (s *Store) supportedFields() (fields.Set, error) {
	_, f, err := s.attrs()(s.NewFunc())
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return f, nil
}

func extractItems(list runtime.Object) ([]runtime.Object, error) {
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return items, nil
}

func setItems(list runtime.Object, items []runtime.Object) error {
	if err := meta.SetList(list, items); err != nil {
		return apierrors.NewInternalError(err)
	}
	return nil
}
