package generic

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// Upstream's finalizers for the non-default propagation policies; the
// garbage collector acts on them.
const (
	finalizerOrphan     = "orphan"
	finalizerForeground = "foregroundDeletion"
)

// Delete deletes namespace/name. Objects of kinds deleted gracefully (pods)
// and objects with finalizers are marked (deletionTimestamp,
// deletionGracePeriodSeconds) and kept: the second result is then false and
// the first the updated object. Otherwise the object is removed and returned
// (the caller decides whether to answer with it or with a Success status).
// options' preconditions (uid, resourceVersion) must hold (409 otherwise);
// its propagationPolicy is recorded as upstream does, with the orphan or
// foregroundDeletion finalizer.
func (s *Store) Delete(ctx context.Context, namespace, name string, options *metav1.DeleteOptions, dryRun bool) (runtime.Object, bool, error) {
	if options == nil {
		options = &metav1.DeleteOptions{}
	}
	key := s.Key(namespace, name)
	var preconditions *storage.Preconditions
	if p := options.Preconditions; p != nil {
		preconditions = &storage.Preconditions{UID: p.UID, ResourceVersion: p.ResourceVersion}
	}

	current, err := s.Get(ctx, namespace, name, nil)
	if err != nil {
		return nil, false, err
	}
	if preconditions != nil {
		if err := preconditions.Check(key, current); err != nil {
			return nil, false, s.statusError(err, name)
		}
	}
	m, err := accessor(current)
	if err != nil {
		return nil, false, err
	}

	graceful := false
	if g, ok := s.Strategy.(registry.GracefulDeleter); ok {
		graceful = g.CheckGracefulDelete(ctx, current, options)
	}
	finalizers := finalizersFor(m.GetFinalizers(), options.PropagationPolicy)
	grace := int64(0)
	if graceful && options.GracePeriodSeconds != nil {
		grace = *options.GracePeriodSeconds
	}
	if (graceful && grace > 0) || len(finalizers) > 0 {
		return s.markDeleting(ctx, namespace, name, preconditions, grace, finalizers, dryRun)
	}

	if dryRun {
		return current, true, nil
	}
	out := s.NewFunc()
	if err := s.Storage.Delete(ctx, key, out, preconditions, nil); err != nil {
		return nil, false, s.statusError(err, name)
	}
	s.release(ctx, out)
	return out, true, nil
}

// finalizersFor returns the finalizers an object keeps when deleted with
// policy: its own, plus the one recording a non-default policy.
func finalizersFor(existing []string, policy *metav1.DeletionPropagation) []string {
	out := append([]string(nil), existing...)
	add := func(f string) {
		for _, e := range out {
			if e == f {
				return
			}
		}
		out = append(out, f)
	}
	if policy != nil {
		switch *policy {
		case metav1.DeletePropagationOrphan:
			add(finalizerOrphan)
		case metav1.DeletePropagationForeground:
			add(finalizerForeground)
		}
	}
	return out
}

// markDeleting sets deletionTimestamp (now + grace) and
// deletionGracePeriodSeconds, as upstream's graceful deletion does: a second
// delete may shorten the grace period, never lengthen it.
func (s *Store) markDeleting(ctx context.Context, namespace, name string, preconditions *storage.Preconditions,
	grace int64, finalizers []string, dryRun bool) (runtime.Object, bool, error) {
	mark := func(existing runtime.Object) (runtime.Object, error) {
		m, err := accessor(existing)
		if err != nil {
			return nil, err
		}
		if m.GetResourceVersion() == "" {
			return nil, apierrors.NewNotFound(s.Resource, name)
		}
		m.SetFinalizers(finalizers)
		now := s.Clock.Now()
		deadline := metav1.NewTime(now.Add(time.Duration(grace) * time.Second))
		if cur := m.GetDeletionGracePeriodSeconds(); m.GetDeletionTimestamp() != nil && cur != nil && *cur <= grace {
			return existing, nil
		}
		if ts := m.GetDeletionTimestamp(); ts == nil || deadline.Before(ts) {
			m.SetDeletionTimestamp(&deadline)
		}
		g := grace
		m.SetDeletionGracePeriodSeconds(&g)
		return existing, nil
	}
	if dryRun {
		cur, err := s.Get(ctx, namespace, name, nil)
		if err != nil {
			return nil, false, err
		}
		out, err := mark(cur)
		return out, false, s.statusError(err, name)
	}
	out := s.NewFunc()
	if err := s.Storage.GuaranteedUpdate(ctx, s.Key(namespace, name), out, false, preconditions, mark); err != nil {
		return nil, false, s.statusError(err, name)
	}
	return out, false, nil
}

// DeleteCollection deletes every object of namespace ("" = all) selected by
// listOptions, each as Delete would, and returns the list of what it deleted
// or marked.
func (s *Store) DeleteCollection(ctx context.Context, namespace string, options *metav1.DeleteOptions,
	listOptions *metav1.ListOptions, dryRun bool) (runtime.Object, error) {
	list, err := s.List(ctx, namespace, listOptions)
	if err != nil {
		return nil, err
	}
	items, err := extractItems(list)
	if err != nil {
		return nil, err
	}
	var deleted []runtime.Object
	for _, item := range items {
		m, err := accessor(item)
		if err != nil {
			return nil, err
		}
		out, _, err := s.Delete(ctx, m.GetNamespace(), m.GetName(), options, dryRun)
		if apierrors.IsNotFound(err) {
			continue // deleted by someone else meanwhile
		}
		if err != nil {
			return nil, err
		}
		deleted = append(deleted, out)
	}
	result := s.NewListFunc()
	if err := setItems(result, deleted); err != nil {
		return nil, err
	}
	return result, nil
}
