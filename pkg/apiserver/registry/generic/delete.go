package generic

import (
	"context"
	"errors"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// GarbageCollectionPolicy is what a kind's deletion without a propagation
// policy does to its dependents, as upstream's
// rest.GarbageCollectionPolicy.
type GarbageCollectionPolicy int

const (
	// DeleteDependents (the default) collects them in the background.
	DeleteDependents GarbageCollectionPolicy = iota
	// OrphanDependents orphans them: upstream's default for a few kinds in
	// their oldest versions, for compatibility (batch/v1 Jobs).
	OrphanDependents
)

// GarbageCollector is implemented by strategies whose kind orphans its
// dependents by default (Rules.GarbageCollection).
type GarbageCollector interface {
	DefaultGarbageCollectionPolicy() GarbageCollectionPolicy
}

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
// options' preconditions (uid, resourceVersion) must hold (409 otherwise).
// Its propagationPolicy is recorded as upstream does for the garbage
// collector: Orphan adds the orphan finalizer, Foreground the
// foregroundDeletion finalizer, and each (and Background) removes the other
// ones; without a policy the object's own finalizers decide. The finalizers
// of an object already being deleted gracefully (a pod within its grace
// period) no longer change; an object left without finalizers and without a
// grace period is removed. The validating admission ctx carries
// (registry.WithValidation) runs on the stored object once the
// preconditions hold.
func (s *Store) Delete(ctx context.Context, namespace, name string, options *metav1.DeleteOptions, dryRun bool) (runtime.Object, bool, error) {
	ctx, validate := registry.TakeValidation(ctx)
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
	if validate != nil {
		if err := validate(ctx, nil, current); err != nil {
			return nil, false, err
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
	grace := int64(0)
	if graceful && options.GracePeriodSeconds != nil {
		grace = *options.GracePeriodSeconds
	}
	changed, _ := s.gcFinalizers(m.GetFinalizers(), options.PropagationPolicy)
	if (graceful && grace > 0) || len(m.GetFinalizers()) > 0 || changed {
		out, kept, err := s.markDeleting(ctx, namespace, name, preconditions, grace, options.PropagationPolicy, dryRun)
		if !errors.Is(err, errDeleteNow) {
			return out, kept, err
		}
		current = out // the finalizers are all gone: delete it now
	}

	if dryRun {
		return current, true, nil
	}
	out := s.NewFunc()
	if err := s.Storage.Delete(ctx, key, out, preconditions, s.stillNoFinalizers(options.PropagationPolicy)); err != nil {
		return nil, false, s.statusError(err, name)
	}
	s.release(ctx, out)
	return out, true, nil
}

// errDeleteNow is markDeleting's answer when the object is left with no
// finalizer and no grace period: Delete removes it instead.
var errDeleteNow = errors.New("delete now")

// stillNoFinalizers is the storage's last check before an immediate
// deletion: the object must not have gained finalizers (other than those
// policy removes) since it was read, or it would go without them. The
// conflict makes the client retry.
func (s *Store) stillNoFinalizers(policy *metav1.DeletionPropagation) storage.ValidateObjectFunc {
	return func(_ context.Context, obj runtime.Object) error {
		m, err := accessor(obj)
		if err != nil {
			return err
		}
		if _, fins := s.gcFinalizers(m.GetFinalizers(), policy); len(fins) > 0 {
			return apierrors.NewConflict(s.Resource, m.GetName(), errors.New("the object gained finalizers while it was being deleted"))
		}
		return nil
	}
}

// gcFinalizers returns the finalizers an object keeps when deleted with
// policy, and whether they differ from existing. As upstream's
// deletionFinalizersForGarbageCollection: Orphan means the orphan
// finalizer and not foregroundDeletion, Foreground the reverse, Background
// neither; without a policy the object's own finalizers decide, and
// without those the kind's default (orphan for a GarbageCollector
// strategy saying so).
func (s *Store) gcFinalizers(existing []string, policy *metav1.DeletionPropagation) (bool, []string) {
	orphan, foreground := slices.Contains(existing, finalizerOrphan), slices.Contains(existing, finalizerForeground)
	switch {
	case policy != nil:
		orphan = *policy == metav1.DeletePropagationOrphan
		foreground = *policy == metav1.DeletePropagationForeground
	case !orphan && !foreground:
		gc, ok := s.Strategy.(GarbageCollector)
		orphan = ok && gc.DefaultGarbageCollectionPolicy() == OrphanDependents
	}
	var out []string
	for _, f := range existing {
		if f != finalizerOrphan && f != finalizerForeground {
			out = append(out, f)
		}
	}
	if orphan {
		out = append(out, finalizerOrphan)
	}
	if foreground {
		out = append(out, finalizerForeground)
	}
	if sets.New(out...).Equal(sets.New(existing...)) {
		return false, existing
	}
	return true, out
}

// markDeleting sets deletionTimestamp (now + grace) and
// deletionGracePeriodSeconds, as upstream's graceful deletion does: a second
// delete may shorten the grace period, never lengthen it. The finalizers
// policy asks for are set unless the object is already within a grace
// period; errDeleteNow means the object is left without finalizers or grace
// period (the caller removes it).
func (s *Store) markDeleting(ctx context.Context, namespace, name string, preconditions *storage.Preconditions,
	grace int64, policy *metav1.DeletionPropagation, dryRun bool) (runtime.Object, bool, error) {
	var last runtime.Object
	mark := func(existing runtime.Object) (runtime.Object, error) {
		m, err := accessor(existing)
		if err != nil {
			return nil, err
		}
		if m.GetResourceVersion() == "" {
			return nil, apierrors.NewNotFound(s.Resource, name)
		}
		cur := m.GetDeletionGracePeriodSeconds()
		pendingGrace := m.GetDeletionTimestamp() != nil && cur != nil && *cur > 0
		if !pendingGrace {
			_, fins := s.gcFinalizers(m.GetFinalizers(), policy)
			m.SetFinalizers(fins)
		}
		if len(m.GetFinalizers()) == 0 && grace == 0 {
			last = existing
			return nil, errDeleteNow
		}
		if m.GetDeletionTimestamp() != nil && cur != nil && *cur <= grace {
			return existing, nil
		}
		deadline := metav1.NewTime(s.Clock.Now().Add(time.Duration(grace) * time.Second))
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
		if errors.Is(err, errDeleteNow) {
			return last, false, err
		}
		return out, false, s.statusError(err, name)
	}
	out := s.NewFunc()
	err := s.Storage.GuaranteedUpdate(ctx, s.Key(namespace, name), out, false, preconditions, mark)
	if errors.Is(err, errDeleteNow) {
		return last, false, err
	}
	if err != nil {
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
