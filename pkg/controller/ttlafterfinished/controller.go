// Package ttlafterfinished is kinc's "ttl-after-finished" controller
// (upstream's ttl-after-finished-controller): a Job with
// spec.ttlSecondsAfterFinished is deleted that many seconds after it
// finished (the lastTransitionTime of its Complete or Failed condition),
// on an injected clock. Before deleting, the Job is read again from the
// apiserver (not the cache) and its TTL checked once more, since a user may
// have changed it; the delete carries the fresh object's UID as a
// precondition and propagation Foreground, as upstream's, so the Job goes
// once the garbage collector has deleted its pods. Like upstream's it
// records no events.
package ttlafterfinished

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "ttl-after-finished-controller").
const Name = "ttl-after-finished"

// DefaultConcurrentSyncs is upstream's --concurrent-ttl-after-finished-syncs
// default.
const DefaultConcurrentSyncs = 5

// Options configure a Controller.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock decides when a TTL expires and drives the delayed keys; nil
	// means the real clock.
	Clock clock.WithTicker
}

// Controller deletes finished Jobs whose TTL expired. Its queue keys are
// Job keys. It is safe for concurrent use; Run (from the embedded Loop)
// runs it.
type Controller struct {
	*controller.Loop
	client kubernetes.Interface
	jobs   batchlisters.JobLister
	clock  clock.WithTicker
}

// New returns a Controller reading Jobs through the informer (whose
// factory the caller starts) and deleting through client.
func New(client kubernetes.Interface, jobs batchinformers.JobInformer, opts Options) *Controller {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	c := &Controller{client: client, jobs: jobs.Lister(), clock: opts.Clock}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{jobs.Informer().HasSynced}})
	enqueue := func(obj any) {
		if job, ok := obj.(*batchv1.Job); ok && job.DeletionTimestamp == nil && needsCleanup(job) {
			c.Enqueue(job)
		}
	}
	_, _ = jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	return c
}

// sync deletes the Job named key if its TTL expired, else requeues it for
// when it will.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	job, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if expired, err := c.expired(key, job); err != nil || !expired {
		return err
	}
	// The cache may be stale, and the TTL may have been changed: decide on
	// the apiserver's copy.
	fresh, err := c.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if expired, err := c.expired(key, fresh); err != nil || !expired {
		return err
	}
	c.Logger().Info("cleaning up Job", "job", key)
	err = c.client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: ptr(metav1.DeletePropagationForeground),
		Preconditions:     &metav1.Preconditions{UID: &fresh.UID},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func ptr[T any](v T) *T { return &v }

// expired reports whether job's TTL has passed; when it has not, job is
// requeued for when it will. A Job being deleted or without a TTL or not
// finished is not expired.
func (c *Controller) expired(key string, job *batchv1.Job) (bool, error) {
	if job.DeletionTimestamp != nil || !needsCleanup(job) {
		return false, nil
	}
	finished, err := finishTime(job)
	if err != nil {
		return false, err
	}
	now := c.clock.Now()
	if finished.After(now) {
		c.Logger().Warn("Found Job finished in the future. This is likely due to time skew in the cluster. Job cleanup will be deferred.", "job", key)
	}
	left := finished.Add(time.Duration(*job.Spec.TTLSecondsAfterFinished) * time.Second).Sub(now)
	if left > 0 {
		c.EnqueueKeyAfter(key, left)
		return false, nil
	}
	return true, nil
}

func needsCleanup(job *batchv1.Job) bool {
	return job.Spec.TTLSecondsAfterFinished != nil && finishedCondition(job) != nil
}

func finishedCondition(job *batchv1.Job) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		c := &job.Status.Conditions[i]
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

// errNoFinishTime: the finished condition has no lastTransitionTime.
var errNoFinishTime = errors.New("unable to find the time when the Job finished")

func finishTime(job *batchv1.Job) (time.Time, error) {
	c := finishedCondition(job)
	if c == nil || c.LastTransitionTime.IsZero() {
		return time.Time{}, fmt.Errorf("job %s/%s: %w", job.Namespace, job.Name, errNoFinishTime)
	}
	return c.LastTransitionTime.Time, nil
}
