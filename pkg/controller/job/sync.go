package job

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// Upstream's reasons and messages of the Job conditions it sets.
const (
	msgBackoffLimitExceeded = "Job has reached the specified backoff limit"
	msgDeadlineExceeded     = "Job was active longer than specified deadline"
	msgCompletionsReached   = "Reached expected number of succeeded pods"
)

// maxUncountedPods caps status.uncountedTerminatedPods (and the finalizer
// removals of one sync); maxPodsPerSync caps the pods created or deleted
// in one sync, as upstream.
const (
	maxUncountedPods = 500
	maxPodsPerSync   = 500
)

// syncState is what one sync of a Job works out (upstream's syncJobCtx).
type syncState struct {
	job        *batchv1.Job
	pods       []*corev1.Pod
	activePods []*corev1.Pod
	// finished is the condition the Job is heading to: FailureTarget or
	// SuccessCriteriaMet (then Failed or Complete), nil while it runs.
	finished                 *batchv1.JobCondition
	succeeded, failed        int32
	prevSucceeded, succIdx   intervals
	backoff                  backoffRecord
	expectedRmFinalizers     sets.Set[types.UID]
	uncountedSucc, uncFailed sets.Set[types.UID]
	terminating, ready       int32
}

// sync brings the Job (or orphan pod) named key to its desired state.
func (c *Controller) sync(ctx context.Context, key string) error {
	if podKey, ok := splitOrphanKey(key); ok {
		return c.syncOrphanPod(ctx, podKey)
	}
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	if ns == "" || name == "" {
		return fmt.Errorf("invalid job key %q: either namespace or name is missing", key)
	}
	shared, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expectations.forget(key)
		c.finalizers.forget(key)
		c.backoffs.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if managedByOther(shared) {
		return nil
	}
	job := shared.DeepCopy()
	if isFinished(job) {
		c.backoffs.forget(key)
		c.finished.Delete(job.UID)
		return nil
	}
	if _, ok := c.finished.Load(job.UID); ok {
		return nil // finished by us; waiting for the informer to show it
	}
	if m := job.Spec.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		c.recorder.Event(job, corev1.EventTypeWarning, "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown")
		return nil
	}
	if isIndexed(job) && job.Spec.Completions == nil {
		return nil // invalid: the apiserver refuses it
	}
	if job.Status.UncountedTerminatedPods == nil {
		job.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	// Expectations before pods: a pod created meanwhile defers management
	// to the next sync rather than being missed.
	satisfied := c.expectations.satisfied(key)
	pods, err := c.podsForJob(ctx, job)
	if err != nil {
		return err
	}
	st := &syncState{job: job, pods: pods, expectedRmFinalizers: c.finalizers.expected(key),
		uncountedSucc: sets.New(job.Status.UncountedTerminatedPods.Succeeded...),
		uncFailed:     sets.New(job.Status.UncountedTerminatedPods.Failed...)}
	for _, p := range pods {
		if isActive(p) {
			st.activePods = append(st.activePods, p)
			if isReady(p) {
				st.ready++
			}
		}
		if isTerminating(p) {
			st.terminating++
		}
	}
	active := int32(len(st.activePods))
	newSucceeded, newFailed := st.newlyFinished()
	st.succeeded = job.Status.Succeeded + int32(len(newSucceeded)) + int32(st.uncountedSucc.Len())
	st.failed = job.Status.Failed + int32(countedFailures(job, newFailed)) + int32(st.uncFailed.Len())

	if job.Status.StartTime == nil && !suspended(job) {
		job.Status.StartTime = ptr.To(metav1.NewTime(c.clock.Now()))
	}
	st.backoff = c.backoffs.get(key).next(newSucceeded, newFailed)

	// The end state, in upstream's order: an earlier sync's
	// SuccessCriteriaMet or FailureTarget; the pod failure policy;
	// backoffLimit and activeDeadlineSeconds; the success policy; the
	// completions (below).
	st.finished = trueCondition(job, batchv1.JobSuccessCriteriaMet)
	if st.finished == nil {
		if ft := trueCondition(job, batchv1.JobFailureTarget); ft != nil {
			st.finished = c.condition(batchv1.JobFailed, ft.Reason, ft.Message)
		} else if msg := failJobMessage(job, pods); msg != nil {
			st.finished = c.condition(batchv1.JobFailureTarget, batchv1.JobReasonPodFailurePolicy, *msg)
		}
	}
	if st.finished == nil {
		switch {
		case st.failed > ptr.Deref(job.Spec.BackoffLimit, 6) || pastBackoffLimitOnFailure(job, pods):
			st.finished = c.condition(batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimitExceeded)
		case c.pastActiveDeadline(job):
			st.finished = c.condition(batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded, msgDeadlineExceeded)
		case job.Spec.ActiveDeadlineSeconds != nil && !suspended(job):
			c.EnqueueKeyAfter(key, time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second-c.clock.Since(job.Status.StartTime.Time))
		}
	}
	if isIndexed(job) {
		st.prevSucceeded, st.succIdx = succeededIndexes(job, pods)
		st.succeeded = int32(st.succIdx.total())
		if st.finished == nil {
			if msg, met := matchSuccessPolicy(job.Spec.SuccessPolicy, *job.Spec.Completions, st.succIdx); met {
				st.finished = c.condition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy, msg)
			}
		}
	}

	var manageErr error
	suspendChanged := false
	if st.finished != nil {
		// Failed or successful by policy: the active pods go (their
		// finalizers are removed below, once they are counted).
		deletedReady, deleted, err := c.deleteActivePods(ctx, job, st.activePods)
		if deleted != active || !satisfied {
			st.finished = nil // pods left to see go first
		}
		active -= deleted
		st.terminating += deleted
		st.ready -= deletedReady
		manageErr = err
	} else {
		managed := false
		if satisfied && job.DeletionTimestamp == nil {
			active, manageErr = c.manage(ctx, key, st)
			managed = true
		}
		var complete bool
		if job.Spec.Completions == nil {
			// A work queue: done when any pod succeeded and none runs.
			complete = st.succeeded > 0 && active == 0
		} else {
			complete = st.succeeded >= *job.Spec.Completions && active == 0
		}
		switch {
		case complete:
			st.finished = c.condition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletionsReached)
		case managed && suspended(job):
			var changed bool
			job.Status.Conditions, changed = c.ensureCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended")
			if changed {
				suspendChanged = true
				c.recorder.Event(job, corev1.EventTypeNormal, "Suspended", "Job suspended")
				// As upstream with MutableSchedulingDirectivesForSuspendedJobs
				// (beta, on since 1.36): a suspended Job has not started, so
				// its template's scheduling directives may change.
				job.Status.StartTime = nil
			}
		case managed:
			var changed bool
			job.Status.Conditions, changed = c.ensureCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed")
			if changed {
				suspendChanged = true
				c.recorder.Event(job, corev1.EventTypeNormal, "Resumed", "Job resumed")
				// activeDeadlineSeconds counts the time continuously active.
				job.Status.StartTime = ptr.To(metav1.NewTime(c.clock.Now()))
			}
		}
	}
	needsFlush := suspendChanged || active != job.Status.Active || !ptr.Equal(&st.ready, job.Status.Ready) ||
		!ptr.Equal(&st.terminating, job.Status.Terminating)
	job.Status.Active = active
	job.Status.Ready = ptr.To(st.ready)
	job.Status.Terminating = ptr.To(st.terminating)
	if err := c.trackStatus(ctx, key, st, needsFlush); err != nil {
		return fmt.Errorf("tracking status: %w", err)
	}
	return manageErr
}

// newlyFinished returns the succeeded and failed pods not counted yet:
// holding the finalizer, not in uncountedTerminatedPods, not awaiting the
// informer's view of a finalizer removal, with a valid index if Indexed.
func (st *syncState) newlyFinished() (succeeded, failed []*corev1.Pod) {
	for _, p := range st.pods {
		if !hasTrackingFinalizer(p) || st.expectedRmFinalizers.Has(p.UID) {
			continue
		}
		if isIndexed(st.job) {
			if ix := completionIndex(p); ix == noIndex || ix >= int(*st.job.Spec.Completions) {
				continue
			}
		}
		switch {
		case p.Status.Phase == corev1.PodSucceeded && !st.uncountedSucc.Has(p.UID):
			succeeded = append(succeeded, p)
		case isFailed(p, st.job) && !st.uncFailed.Has(p.UID):
			failed = append(failed, p)
		}
	}
	return succeeded, failed
}

// countedFailures is the number of failed pods that count towards
// backoffLimit (not those a podFailurePolicy Ignore rule matches).
func countedFailures(job *batchv1.Job, failed []*corev1.Pod) int {
	n := 0
	for _, p := range failed {
		if _, counts, _ := matchPodFailurePolicy(job.Spec.PodFailurePolicy, p); counts {
			n++
		}
	}
	return n
}

func suspended(job *batchv1.Job) bool { return ptr.Deref(job.Spec.Suspend, false) }

// pastBackoffLimitOnFailure: with restartPolicy OnFailure, the restarts of
// the running and pending pods' containers reached backoffLimit.
func pastBackoffLimitOnFailure(job *batchv1.Job, pods []*corev1.Pod) bool {
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	var restarts int32
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodPending {
			for _, s := range p.Status.InitContainerStatuses {
				restarts += s.RestartCount
			}
			for _, s := range p.Status.ContainerStatuses {
				restarts += s.RestartCount
			}
		}
	}
	limit := ptr.Deref(job.Spec.BackoffLimit, 6)
	if limit == 0 {
		return restarts > 0
	}
	return restarts >= limit
}

func (c *Controller) pastActiveDeadline(job *batchv1.Job) bool {
	if job.Spec.ActiveDeadlineSeconds == nil || job.Status.StartTime == nil || suspended(job) {
		return false
	}
	return c.clock.Since(job.Status.StartTime.Time) >= time.Duration(*job.Spec.ActiveDeadlineSeconds)*time.Second
}

func (c *Controller) condition(typ batchv1.JobConditionType, reason, message string) *batchv1.JobCondition {
	now := metav1.NewTime(c.clock.Now())
	return &batchv1.JobCondition{Type: typ, Status: corev1.ConditionTrue, Reason: reason, Message: message,
		LastProbeTime: now, LastTransitionTime: now}
}

// ensureCondition sets the condition of type typ (a new false one is not
// added), reporting whether the list changed.
func (c *Controller) ensureCondition(list []batchv1.JobCondition, typ batchv1.JobConditionType, status corev1.ConditionStatus, reason, message string) ([]batchv1.JobCondition, bool) {
	cond := c.condition(typ, reason, message)
	cond.Status = status
	for i := range list {
		if list[i].Type == typ {
			if list[i].Status == status && list[i].Reason == reason && list[i].Message == message {
				return list, false
			}
			list[i] = *cond
			return list, true
		}
	}
	if status == corev1.ConditionFalse {
		return list, false
	}
	return append(list, *cond), true
}

func trueCondition(job *batchv1.Job, typ batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == typ && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// deleteActivePods deletes pods (keeping their finalizers: the tracking
// removes them once counted), returning how many ready ones and how many
// in all are gone.
func (c *Controller) deleteActivePods(ctx context.Context, job *batchv1.Job, pods []*corev1.Pod) (int32, int32, error) {
	return c.deletePods(ctx, job, "", pods, false)
}

// deletePods deletes pods in parallel, first removing their tracking
// finalizers when removeFinalizers (pods deleted while the Job runs do not
// count). With a key, each failed deletion lowers the expected ones.
func (c *Controller) deletePods(ctx context.Context, job *batchv1.Job, key string, pods []*corev1.Pod, removeFinalizers bool) (int32, int32, error) {
	var mu sync.Mutex
	var errs []error
	deleted, deletedReady := int32(len(pods)), int32(0)
	var wg sync.WaitGroup
	for _, pod := range pods {
		wg.Go(func() {
			var err error
			if removeFinalizers {
				if err = c.removeFinalizer(ctx, pod); err != nil {
					err = fmt.Errorf("removing completion finalizer: %w", err)
				}
			}
			if err == nil {
				err = c.deletePod(ctx, job, pod.Name)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && key != "" {
				c.expectations.observed(key, 0, 1)
			}
			if err != nil && !apierrors.IsNotFound(err) {
				deleted--
				errs = append(errs, err)
				return
			}
			if isReady(pod) {
				deletedReady++
			}
		})
	}
	wg.Wait()
	return deletedReady, deleted, errors.Join(errs...)
}
