package job

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "job-controller").
const Name = "job"

// Component is the source of the controller's events, as upstream's.
const Component = "job-controller"

// DefaultConcurrentSyncs is upstream's --concurrent-job-syncs default.
const DefaultConcurrentSyncs = 5

// syncBatchPeriod delays the syncs triggered by pod events and Job status
// updates so that bursts of them make one sync (upstream's
// SyncJobBatchPeriod).
const syncBatchPeriod = time.Second

// orphanPrefix starts the queue keys of pods ("orphan/<ns>/<name>") whose
// tracking finalizer must go because no unfinished Job of ours controls
// them; other keys are Jobs' "<ns>/<name>".
const orphanPrefix = "orphan/"

// Options configure a Controller.
type Options struct {
	// Recorder records the Jobs' events; nil drops them. The manager's is
	// from a broadcaster with source component Component.
	Recorder record.EventRecorder
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives backoffs, deadlines and status times; nil means the
	// real clock.
	Clock clock.WithTicker
}

// Controller runs Jobs' pods. Its queue keys are Job keys and orphan pod
// keys (see orphanPrefix). It is safe for concurrent use; Run (from the
// embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client     kubernetes.Interface
	jobs       batchlisters.JobLister
	pods       corelisters.PodLister
	podIndexer cache.Indexer
	recorder   record.EventRecorder
	clock      clock.WithTicker

	expectations *expectations
	finalizers   *finalizerExpectations
	backoffs     *backoffs
	// finished holds the UIDs of Jobs whose finished status was written
	// and not yet seen by the informer: they are not synced meanwhile.
	finished sync.Map
}

// New returns a Controller reading Jobs and pods through the given
// informers (whose factory the caller starts; an index is added to the
// pod informer, so New must be called before it starts) and writing
// through client.
func New(client kubernetes.Interface, jobs batchinformers.JobInformer, pods coreinformers.PodInformer, opts Options) (*Controller, error) {
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	c := &Controller{client: client, jobs: jobs.Lister(), pods: pods.Lister(), podIndexer: pods.Informer().GetIndexer(),
		recorder: opts.Recorder, clock: opts.Clock, expectations: newExpectations(opts.Clock),
		finalizers: newFinalizerExpectations(), backoffs: newBackoffs()}
	if _, ok := c.podIndexer.GetIndexers()[podIndex]; !ok {
		if err := pods.Informer().AddIndexers(cache.Indexers{podIndex: indexPodByController}); err != nil {
			return nil, fmt.Errorf("adding the pod index of the job controller: %w", err)
		}
	}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		// Upstream's job queue: per-key exponential backoff from 1 s to 1 min.
		RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, time.Minute),
		Synced:      []cache.InformerSynced{jobs.Informer().HasSynced, pods.Informer().HasSynced}})
	if _, err := jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.Enqueue(obj) },
		UpdateFunc: c.updateJob,
		DeleteFunc: c.deleteJob,
	}); err != nil {
		return nil, err
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: func(obj any) { c.deletePodEvent(obj, true) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Controller) updateJob(oldObj, newObj any) {
	old, cur := oldObj.(*batchv1.Job), newObj.(*batchv1.Job)
	if isFinished(cur) {
		// Pods that kept their finalizer past the end (a backup: the
		// finalizers go before the Job is marked finished).
		c.enqueueOrphansOf(cur)
		return
	}
	key, _ := controller.KeyOf(cur)
	if cur.Generation == old.Generation {
		c.EnqueueKeyAfter(key, syncBatchPeriod)
	} else {
		c.EnqueueKey(key)
	}
	// A changed activeDeadlineSeconds: sync when it passes.
	if cur.Status.StartTime != nil && cur.Spec.ActiveDeadlineSeconds != nil &&
		(old.Spec.ActiveDeadlineSeconds == nil || *old.Spec.ActiveDeadlineSeconds != *cur.Spec.ActiveDeadlineSeconds) {
		total := time.Duration(*cur.Spec.ActiveDeadlineSeconds) * time.Second
		c.EnqueueKeyAfter(key, total-c.clock.Since(cur.Status.StartTime.Time))
	}
}

func (c *Controller) deleteJob(obj any) {
	c.Enqueue(obj)
	job, ok := controller.Object[*batchv1.Job](obj)
	if !ok {
		return
	}
	c.finished.Delete(job.UID)
	c.enqueueOrphansOf(job)
	key, _ := controller.KeyOf(job)
	c.expectations.forget(key)
	c.backoffs.forget(key)
}

// enqueueOrphansOf enqueues the pods matching job's selector that still
// hold the tracking finalizer.
func (c *Controller) enqueueOrphansOf(job *batchv1.Job) {
	selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return
	}
	pods, _ := c.pods.Pods(job.Namespace).List(selector)
	for _, p := range pods {
		if hasTrackingFinalizer(p) {
			c.EnqueueKey(orphanPrefix + p.Namespace + "/" + p.Name)
		}
	}
}

// jobOf returns the Job (from the cache) that ref names, if it is the one
// with ref's UID.
func (c *Controller) jobOf(namespace string, ref *metav1.OwnerReference) *batchv1.Job {
	if ref == nil || ref.Kind != "Job" {
		return nil
	}
	job, err := c.jobs.Jobs(namespace).Get(ref.Name)
	if err != nil || job.UID != ref.UID {
		return nil
	}
	return job
}

// jobsSelecting returns the Jobs of the pod's namespace whose selector
// matches its labels (candidates to adopt an orphan).
func (c *Controller) jobsSelecting(pod *corev1.Pod) []*batchv1.Job {
	jobs, err := c.jobs.Jobs(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*batchv1.Job
	for _, j := range jobs {
		sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			out = append(out, j)
		}
	}
	return out
}

func (c *Controller) enqueueBatched(job *batchv1.Job) {
	key, _ := controller.KeyOf(job)
	c.EnqueueKeyAfter(key, syncBatchPeriod)
}

func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already being deleted (after a restart):
		// not an observed creation.
		c.deletePodEvent(pod, false)
		return
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		if job := c.jobOf(pod.Namespace, ref); job != nil {
			key, _ := controller.KeyOf(job)
			c.expectations.observed(key, 1, 0)
			c.enqueueBatched(job)
		}
		return
	}
	if hasTrackingFinalizer(pod) {
		c.EnqueueKey(orphanPrefix + pod.Namespace + "/" + pod.Name)
	}
	for _, job := range c.jobsSelecting(pod) {
		c.enqueueBatched(job)
	}
}

func (c *Controller) updatePod(oldObj, newObj any) {
	old, cur := oldObj.(*corev1.Pod), newObj.(*corev1.Pod)
	if cur.ResourceVersion == old.ResourceVersion {
		return
	}
	if cur.DeletionTimestamp != nil {
		c.deletePodEvent(cur, false)
		return
	}
	finalizerGone := !hasTrackingFinalizer(cur)
	curRef, oldRef := metav1.GetControllerOf(cur), metav1.GetControllerOf(old)
	refChanged := (curRef == nil) != (oldRef == nil) || (curRef != nil && curRef.UID != oldRef.UID)
	if refChanged && oldRef != nil {
		if job := c.jobOf(old.Namespace, oldRef); job != nil {
			if finalizerGone {
				key, _ := controller.KeyOf(job)
				c.finalizers.observed(key, cur.UID)
			}
			c.enqueueBatched(job)
		}
	}
	if curRef != nil {
		if job := c.jobOf(cur.Namespace, curRef); job != nil {
			if finalizerGone {
				key, _ := controller.KeyOf(job)
				c.finalizers.observed(key, cur.UID)
			}
			c.enqueueBatched(job)
		}
		return
	}
	if hasTrackingFinalizer(cur) {
		c.EnqueueKey(orphanPrefix + cur.Namespace + "/" + cur.Name)
	}
	if refChanged || !labels.Equals(cur.Labels, old.Labels) {
		for _, job := range c.jobsSelecting(cur) {
			c.enqueueBatched(job)
		}
	}
}

// deletePodEvent handles a pod deleted (final) or getting its deletion
// timestamp.
func (c *Controller) deletePodEvent(obj any, final bool) {
	pod, ok := controller.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		if hasTrackingFinalizer(pod) {
			c.EnqueueKey(orphanPrefix + pod.Namespace + "/" + pod.Name)
		}
		return
	}
	job := c.jobOf(pod.Namespace, ref)
	if job == nil || isFinished(job) {
		if hasTrackingFinalizer(pod) {
			c.EnqueueKey(orphanPrefix + pod.Namespace + "/" + pod.Name)
		}
		return
	}
	key, _ := controller.KeyOf(job)
	c.expectations.observed(key, 0, 1)
	if final || !hasTrackingFinalizer(pod) {
		c.finalizers.observed(key, pod.UID)
	}
	c.enqueueBatched(job)
}

// syncOrphanPod removes the tracking finalizer from the pod named key
// unless an unfinished Job of ours controls it.
func (c *Controller) syncOrphanPod(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ref := metav1.GetControllerOf(pod); ref != nil {
		if ref.Kind != "Job" || ref.APIVersion != batchv1.SchemeGroupVersion.String() {
			return nil // not a Job's pod: not our finalizer to remove
		}
		job := c.jobOf(ns, ref)
		if job != nil && managedByOther(job) {
			return nil
		}
		if job != nil && !isFinished(job) {
			return nil // adopted meanwhile
		}
	}
	if err := c.removeFinalizer(ctx, pod); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// podsForJob returns job's pods from the cache, adopting matching orphans
// and releasing pods that stopped matching (see claimPods). The pods are
// the cache's: not to be mutated.
func (c *Controller) podsForJob(ctx context.Context, job *batchv1.Job) ([]*corev1.Pod, error) {
	var candidates []*corev1.Pod
	for _, uid := range []string{string(job.UID), ""} {
		objs, err := c.podIndexer.ByIndex(podIndex, job.Namespace+"/"+uid)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			candidates = append(candidates, o.(*corev1.Pod))
		}
	}
	return c.claimPods(ctx, job, candidates)
}

// managedByOther: spec.managedBy names another controller.
func managedByOther(job *batchv1.Job) bool {
	return job.Spec.ManagedBy != nil && *job.Spec.ManagedBy != batchv1.JobControllerName
}

// isFinished: the Job has Complete or Failed true.
func isFinished(job *batchv1.Job) bool {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func splitOrphanKey(key string) (string, bool) {
	return strings.CutPrefix(key, orphanPrefix)
}
