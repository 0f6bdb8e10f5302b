package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// trackStatus is upstream's finalizer-based tracking
// (trackJobStatusAndRemoveFinalizers):
//  1. terminated pods still holding the finalizer go into
//     status.uncountedTerminatedPods (Indexed Jobs: their indexes into
//     completedIndexes), with the interim FailureTarget or
//     SuccessCriteriaMet condition, and the status is written;
//  2. their finalizers are removed;
//  3. the pods whose finalizer is gone move from the uncounted lists to
//     status.succeeded/failed;
//  4. once nothing is left uncounted or terminating, the Job gets Failed
//     or Complete (with completionTime) and its event.
//
// At most maxUncountedPods pods are handled per sync.
func (c *Controller) trackStatus(ctx context.Context, key string, st *syncState, needsFlush bool) error {
	job := st.job
	indexed := isIndexed(job)
	if indexed {
		slices.SortStableFunc(st.pods, func(a, b *corev1.Pod) int { return completionIndex(a) - completionIndex(b) })
	}
	withFinalizer := sets.New[types.UID]()
	for _, p := range st.pods {
		if hasTrackingFinalizer(p) && !st.expectedRmFinalizers.Has(p.UID) {
			withFinalizer.Insert(p.UID)
		}
	}
	if countUncounted(&job.Status, withFinalizer) {
		needsFlush = true
	}
	uncounted := job.Status.UncountedTerminatedPods
	var rmFinalizer []*corev1.Pod
	var newIndexes []int
	reachedMax := false
	for _, p := range st.pods {
		if !hasTrackingFinalizer(p) || st.expectedRmFinalizers.Has(p.UID) {
			continue // counted in an earlier sync
		}
		failed := isFailed(p, job)
		if !(job.DeletionTimestamp != nil || st.finished != nil || p.Status.Phase == corev1.PodSucceeded || failed) {
			continue
		}
		rmFinalizer = append(rmFinalizer, p)
		ix := completionIndex(p)
		switch {
		case p.Status.Phase == corev1.PodSucceeded && !st.uncFailed.Has(p.UID):
			if indexed {
				if ix != noIndex && ix < int(*job.Spec.Completions) && !st.prevSucceeded.has(ix) {
					newIndexes = append(newIndexes, ix)
					needsFlush = true
				}
			} else if !st.uncountedSucc.Has(p.UID) {
				uncounted.Succeeded = append(uncounted.Succeeded, p.UID)
				needsFlush = true
			}
		case failed || (st.finished != nil && st.finished.Type != batchv1.JobSuccessCriteriaMet):
			// Once the Job is failing, every unfinished pod counts as failed.
			if st.uncFailed.Has(p.UID) || (indexed && (ix == noIndex || ix >= int(*job.Spec.Completions))) {
				break
			}
			if _, counts, _ := matchPodFailurePolicy(job.Spec.PodFailurePolicy, p); counts {
				uncounted.Failed = append(uncounted.Failed, p.UID)
				needsFlush = true
			}
		}
		if len(newIndexes)+len(uncounted.Succeeded)+len(uncounted.Failed) >= maxUncountedPods {
			reachedMax = true
			break
		}
	}
	if indexed {
		st.succIdx = st.succIdx.with(newIndexes...)
		if s := st.succIdx.String(); s != job.Status.CompletedIndexes {
			job.Status.CompletedIndexes = s
			needsFlush = true
		}
		job.Status.Succeeded = int32(st.succIdx.total())
	}
	// The interim conditions are written before the finalizers go; the
	// final ones after.
	if st.finished != nil && st.finished.Type == batchv1.JobFailureTarget {
		job.Status.Conditions = append(job.Status.Conditions, *st.finished)
		needsFlush = true
		st.finished = c.condition(batchv1.JobFailed, st.finished.Reason, st.finished.Message)
	}
	if st.finished != nil && st.finished.Type == batchv1.JobSuccessCriteriaMet {
		if trueCondition(job, batchv1.JobSuccessCriteriaMet) == nil {
			job.Status.Conditions = append(job.Status.Conditions, *st.finished)
			needsFlush = true
		}
		st.finished = c.condition(batchv1.JobComplete, st.finished.Reason, st.finished.Message)
	}
	var err error
	if needsFlush, err = c.flushAndRemoveFinalizers(ctx, key, st, rmFinalizer, withFinalizer, needsFlush); err != nil {
		return err
	}
	finished := !reachedMax && c.enactFinished(st)
	if !needsFlush && !finished {
		return nil
	}
	updated, err := c.updateStatus(ctx, st.job)
	if err != nil {
		return fmt.Errorf("removing uncounted pods from status: %w", err)
	}
	if finished {
		c.recordFinished(updated, st.finished)
		c.finished.Store(updated.UID, struct{}{})
	}
	return nil
}

// flushAndRemoveFinalizers writes the status when needed (recording the
// new backoff), removes the finalizers of pods, counts those removed, and
// returns whether the status has unwritten changes. When some removals
// failed, the partial progress is written before returning their error.
func (c *Controller) flushAndRemoveFinalizers(ctx context.Context, key string, st *syncState, pods []*corev1.Pod, withFinalizer sets.Set[types.UID], needsFlush bool) (bool, error) {
	if needsFlush {
		updated, err := c.updateStatus(ctx, st.job)
		if err != nil {
			return needsFlush, fmt.Errorf("adding uncounted pods to status: %w", err)
		}
		st.job = updated
		c.backoffs.set(key, st.backoff)
		needsFlush = false
	}
	var rmErr error
	if len(pods) > 0 {
		var removed []bool
		removed, rmErr = c.removeFinalizers(ctx, key, pods)
		for i, p := range pods {
			if removed[i] {
				withFinalizer.Delete(p.UID)
			}
		}
	}
	if countUncounted(&st.job.Status, withFinalizer) {
		needsFlush = true
	}
	if rmErr != nil && needsFlush {
		if _, err := c.updateStatus(ctx, st.job); err != nil {
			return needsFlush, fmt.Errorf("removing uncounted pods from status: %w", err)
		}
	}
	return needsFlush, rmErr
}

// countUncounted moves the uncounted UIDs whose pods no longer hold the
// finalizer into the succeeded and failed counters; it reports a change.
func countUncounted(status *batchv1.JobStatus, withFinalizer sets.Set[types.UID]) bool {
	u := status.UncountedTerminatedPods
	keep := func(uids []types.UID) []types.UID {
		var out []types.UID
		for _, uid := range uids {
			if withFinalizer.Has(uid) {
				out = append(out, uid)
			}
		}
		return out
	}
	changed := false
	if s := keep(u.Succeeded); len(s) != len(u.Succeeded) {
		status.Succeeded += int32(len(u.Succeeded) - len(s))
		u.Succeeded, changed = s, true
	}
	if f := keep(u.Failed); len(f) != len(u.Failed) {
		status.Failed += int32(len(u.Failed) - len(f))
		u.Failed, changed = f, true
	}
	return changed
}

// removeFinalizers removes the tracking finalizer of pods in parallel;
// removed[i] is true when pods[i]'s is gone (or the pod is).
func (c *Controller) removeFinalizers(ctx context.Context, key string, pods []*corev1.Pod) ([]bool, error) {
	removed := make([]bool, len(pods))
	uids := make([]types.UID, len(pods))
	for i, p := range pods {
		uids[i] = p.UID
	}
	c.finalizers.expect(key, uids...)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for i, pod := range pods {
		wg.Go(func() {
			if err := c.removeFinalizer(ctx, pod); err != nil {
				c.finalizers.observed(key, pod.UID) // no update will show it
				if !apierrors.IsNotFound(err) {
					mu.Lock()
					errs = append(errs, fmt.Errorf("removing tracking finalizer: %w", err))
					mu.Unlock()
					return
				}
			}
			removed[i] = true
		})
	}
	wg.Wait()
	return removed, errors.Join(errs...)
}

// enactFinished sets the final condition once no pod is left uncounted or
// terminating; it reports whether the Job is finished.
func (c *Controller) enactFinished(st *syncState) bool {
	if st.finished == nil {
		return false
	}
	job := st.job
	if u := job.Status.UncountedTerminatedPods; u != nil && len(u.Succeeded)+len(u.Failed) > 0 {
		return false
	}
	if st.terminating > 0 {
		return false
	}
	job.Status.Conditions, _ = c.ensureCondition(job.Status.Conditions, st.finished.Type, st.finished.Status, st.finished.Reason, st.finished.Message)
	if st.finished.Type == batchv1.JobComplete {
		job.Status.CompletionTime = &st.finished.LastTransitionTime
	}
	return true
}

// recordFinished records upstream's events of a finished Job: Completed
// ("Job completed", with TooManySucceededPods before it when more pods
// succeeded than completions), or a warning named by the Failed reason.
func (c *Controller) recordFinished(job *batchv1.Job, cond *batchv1.JobCondition) {
	if cond.Type == batchv1.JobComplete {
		if job.Spec.Completions != nil && job.Status.Succeeded > *job.Spec.Completions {
			c.recorder.Event(job, corev1.EventTypeWarning, "TooManySucceededPods", "Too many succeeded pods running after completion count reached")
		}
		c.recorder.Event(job, corev1.EventTypeNormal, "Completed", "Job completed")
		return
	}
	c.recorder.Event(job, corev1.EventTypeWarning, cond.Reason, cond.Message)
}

func (c *Controller) updateStatus(ctx context.Context, job *batchv1.Job) (*batchv1.Job, error) {
	return c.client.BatchV1().Jobs(job.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
}
