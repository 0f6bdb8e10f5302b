// Package cronjob is kinc's "cronjob" controller (upstream's
// cronjob-controller, its v2): it creates each batch/v1 CronJob's Jobs at
// the times of its schedule, as upstream's does.
//
// The schedule is parsed by pkg/internal/cron, the parser the apiserver
// validates it with, in spec.timeZone when set (a TZ= or CRON_TZ= in the
// schedule itself is honoured with upstream's UnsupportedSchedule
// warning). At each start time a Job named <cronjob>-<scheduled time in
// minutes since the epoch> is created from spec.jobTemplate with the
// CronJob as controller and the batch.kubernetes.io/cronjob-scheduled-timestamp
// annotation (the time in RFC 3339, in the CronJob's zone), and added to
// status.active with status.lastScheduleTime; the controller then requeues
// the CronJob for the next start time (plus 100 ms) on its injected clock.
// concurrencyPolicy Forbid skips a start while a Job is active
// (JobAlreadyActive), Replace deletes the active ones first; suspend stops
// new Jobs; a start time older than startingDeadlineSeconds is missed
// (MissSchedule), and more than 100 missed start times are warned about
// (TooManyMissedTimes). Finished Jobs leave status.active (SawCompletedJob),
// set status.lastSuccessfulTime when they succeeded, and are deleted past
// successfulJobsHistoryLimit and failedJobsHistoryLimit, oldest first
// (SuccessfulDelete). Events and messages are upstream's.
package cronjob

import (
	"context"
	"fmt"
	"log/slog"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "cronjob-controller").
const Name = "cronjob"

// Component is the source of the controller's events, as upstream's.
const Component = "cronjob-controller"

// DefaultConcurrentSyncs is upstream's --concurrent-cron-job-syncs default.
const DefaultConcurrentSyncs = 5

// jobIndex indexes Jobs by the UID of their controller.
const jobIndex = "kinc.cronjob/controller-uid"

// Options configure a Controller.
type Options struct {
	// Recorder records the CronJobs' events; nil drops them.
	Recorder record.EventRecorder
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock is the time schedules are read against and drives the
	// requeues at the next start times; nil means the real clock.
	Clock clock.WithTicker
}

// Controller creates CronJobs' Jobs. Its queue keys are CronJob keys. It is
// safe for concurrent use; Run (from the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client   kubernetes.Interface
	cronJobs batchlisters.CronJobLister
	jobs     cache.Indexer
	recorder record.EventRecorder
	clock    clock.WithTicker
}

// New returns a Controller reading CronJobs and Jobs through the given
// informers (whose factory the caller starts; an index is added to the Job
// informer, so New must be called before it starts) and writing through
// client.
func New(client kubernetes.Interface, cronJobs batchinformers.CronJobInformer, jobs batchinformers.JobInformer, opts Options) (*Controller, error) {
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	c := &Controller{client: client, cronJobs: cronJobs.Lister(), jobs: jobs.Informer().GetIndexer(),
		recorder: opts.Recorder, clock: opts.Clock}
	if _, ok := c.jobs.GetIndexers()[jobIndex]; !ok {
		if err := jobs.Informer().AddIndexers(cache.Indexers{jobIndex: indexJobByController}); err != nil {
			return nil, fmt.Errorf("adding job controller UID indexer: %w", err)
		}
	}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{cronJobs.Informer().HasSynced, jobs.Informer().HasSynced}})
	if _, err := jobs.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{SkipResync: true,
		Keys: func(obj any) []string { return c.ownerKeys(obj) }})); err != nil {
		return nil, err
	}
	if _, err := cronJobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.Enqueue,
		UpdateFunc: c.updateCronJob,
		DeleteFunc: c.Enqueue,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func indexJobByController(obj any) ([]string, error) {
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(job); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return nil, nil
}

// ownerKeys maps a Job to its CronJob's key, when that CronJob (by UID)
// is in the cache.
func (c *Controller) ownerKeys(obj any) []string {
	job, ok := controller.Object[*batchv1.Job](obj)
	if !ok {
		return nil
	}
	ref := metav1.GetControllerOfNoCopy(job)
	if ref == nil || ref.Kind != "CronJob" {
		return nil
	}
	cj, err := c.cronJobs.CronJobs(job.Namespace).Get(ref.Name)
	if err != nil || cj.UID != ref.UID {
		return nil
	}
	return []string{job.Namespace + "/" + ref.Name}
}

// updateCronJob requeues a CronJob: at its next start time when the
// schedule or time zone changed, else at once.
func (c *Controller) updateCronJob(oldObj, newObj any) {
	old, cur := oldObj.(*batchv1.CronJob), newObj.(*batchv1.CronJob)
	if old.Spec.Schedule == cur.Spec.Schedule && ptr.Equal(old.Spec.TimeZone, cur.Spec.TimeZone) {
		c.Enqueue(cur)
		return
	}
	sched, err := parseSchedule(formatSchedule(cur, nil))
	if err != nil {
		c.recorder.Eventf(cur, corev1.EventTypeWarning, "UnParseableCronJobSchedule", "unparseable schedule for cronjob: %s", cur.Spec.Schedule)
		return
	}
	if d, ok := nextScheduleTimeDuration(cur, c.clock.Now(), sched); ok {
		c.EnqueueAfter(cur, d)
	}
}

// sync reconciles the CronJob named key: history cleanup, then the
// status of its Jobs and the Job of the current start time, then a status
// update when anything changed and a requeue at the next start time.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	shared, err := c.cronJobs.CronJobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	objs, err := c.jobs.ByIndex(jobIndex, string(shared.UID))
	if err != nil {
		return err
	}
	var jobs []*batchv1.Job
	for _, o := range objs {
		if j, ok := o.(*batchv1.Job); ok && j.Namespace == ns {
			jobs = append(jobs, j)
		}
	}
	cj := shared.DeepCopy()
	cleaned := c.cleanupFinishedJobs(ctx, cj, jobs)
	requeue, synced, syncErr := c.syncCronJob(ctx, cj, jobs)
	if cleaned || synced {
		if _, err := c.client.BatchV1().CronJobs(ns).UpdateStatus(ctx, cj, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating the status of cronjob %s: %w", key, err)
		}
	}
	if requeue != nil {
		c.EnqueueKeyAfter(key, *requeue)
		return nil
	}
	return syncErr
}

func inActiveList(cj *batchv1.CronJob, uid types.UID) bool {
	for _, r := range cj.Status.Active {
		if r.UID == uid {
			return true
		}
	}
	return false
}

func inActiveListByName(cj *batchv1.CronJob, name string) bool {
	for _, r := range cj.Status.Active {
		if r.Name == name && r.Namespace == cj.Namespace {
			return true
		}
	}
	return false
}

func deleteFromActiveList(cj *batchv1.CronJob, uid types.UID) {
	active := []corev1.ObjectReference{}
	for _, r := range cj.Status.Active {
		if r.UID != uid {
			active = append(active, r)
		}
	}
	cj.Status.Active = active
}

// finishedCondition returns the Job's Complete or Failed condition type
// when it is true.
func finishedCondition(j *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}
