package job

import (
	"context"
	"errors"
	"slices"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
)

// manage creates or deletes pods so that the Job runs as many as it
// should (upstream's manageJob), and returns the number of active pods
// after. A suspended Job loses all of them. Creation waits out the
// failure backoff (the Job is requeued when it ends) and goes in
// slow-start batches of 1, 2, 4… that stop at the first failure.
func (c *Controller) manage(ctx context.Context, key string, st *syncState) (int32, error) {
	job := st.job
	active := int32(len(st.activePods))
	if suspended(job) {
		rm := podsForRemoval(job, st.activePods, int(active))
		c.expectations.expect(key, 0, len(rm))
		ready, deleted, err := c.deletePods(ctx, job, key, rm, true)
		st.terminating += deleted
		st.ready -= ready
		return active - deleted, err
	}
	parallelism := ptr.Deref(job.Spec.Parallelism, 1)
	var want int32
	switch {
	case job.Spec.Completions == nil && st.succeeded > 0:
		want = active // a work queue with a success: let the rest finish
	case job.Spec.Completions == nil:
		want = parallelism
	default:
		want = max(0, min(*job.Spec.Completions-st.succeeded, parallelism))
	}
	rm := podsForRemoval(job, st.activePods, int(max(0, active-want)))
	if len(rm) > maxPodsPerSync {
		rm = rm[:maxPodsPerSync]
	}
	if len(rm) > 0 {
		// Deleting takes precedence: no creation in the same sync.
		c.expectations.expect(key, 0, len(rm))
		ready, deleted, err := c.deletePods(ctx, job, key, rm, true)
		st.terminating += deleted
		st.ready -= ready
		return active - deleted, err
	}
	var terminating int32
	if onlyReplaceFailed(job) {
		terminating = st.terminating
	}
	diff := want - terminating - active
	if diff <= 0 {
		return active, nil
	}
	if wait := st.backoff.remaining(c.clock); wait > 0 {
		c.EnqueueKeyAfter(key, max(wait, syncBatchPeriod))
		return active, nil
	}
	diff = min(diff, maxPodsPerSync)
	var indexes []int
	if isIndexed(job) {
		indexes = firstPendingIndexes(job, st.succIdx, st.activePods, st.pods, int(diff))
		diff = int32(len(indexes))
	}
	template := job.Spec.Template.DeepCopy()
	if isIndexed(job) {
		addIndexEnv(&template.Spec)
	}
	if !slices.Contains(template.Finalizers, batchv1.JobTrackingFinalizer) {
		template.Finalizers = append(template.Finalizers, batchv1.JobTrackingFinalizer)
	}
	c.expectations.expect(key, int(diff), 0)
	var mu sync.Mutex
	var errs []error
	for batch := min(diff, 1); diff > 0; batch = min(2*batch, diff) {
		failedBefore := len(errs)
		var wg sync.WaitGroup
		for range batch {
			ix := noIndex
			if len(indexes) > 0 {
				ix, indexes = indexes[0], indexes[1:]
			}
			wg.Go(func() {
				generateName := ""
				t := template
				if ix != noIndex {
					t = template.DeepCopy()
					addIndex(t, job.Name, ix)
					generateName = generateNameWithIndex(job.Name, ix)
				}
				err := c.createPod(ctx, job, podFromTemplate(job, t, generateName))
				if err == nil || apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
					return // a terminating namespace refuses every creation: not an error
				}
				c.expectations.observed(key, 1, 0)
				mu.Lock()
				defer mu.Unlock()
				active--
				errs = append(errs, err)
			})
		}
		wg.Wait()
		active += batch
		diff -= batch
		if len(errs) > failedBefore && diff > 0 {
			// Slow start: the pods not attempted are not expected.
			c.expectations.observed(key, int(diff), 0)
			break
		}
	}
	return active, errors.Join(errs...)
}

// podsForRemoval returns at least n of the active pods to delete: for an
// Indexed Job first those with no, an out-of-range or a repeated index,
// then the best candidates in upstream's ActivePods order.
func podsForRemoval(job *batchv1.Job, active []*corev1.Pod, n int) []*corev1.Pod {
	var rm, left []*corev1.Pod
	if isIndexed(job) {
		rm, left = duplicateIndexPods(slices.Clone(active), int(*job.Spec.Completions))
	} else {
		left = slices.Clone(active)
	}
	if len(rm) < n {
		slices.SortStableFunc(left, func(a, b *corev1.Pod) int {
			switch {
			case lessForDeletion(a, b):
				return -1
			case lessForDeletion(b, a):
				return 1
			}
			return 0
		})
		rm = append(rm, left[:n-len(rm)]...)
	}
	return rm
}
