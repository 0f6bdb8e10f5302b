package cronjob_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/cronjob"
)

// TestIntegrationCronJob runs the controller on a fake clock against a
// real kube-apiserver on etcd: a CronJob "* * * * *" gets no Job until the
// clock reaches the next minute, then the Job <name>-<minutes> with the
// scheduled-timestamp annotation, in status.active; once the Job is
// marked Complete (the test plays the job controller) it leaves
// status.active and sets lastSuccessfulTime. Events reach the API.
func TestIntegrationCronJob(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()

	cj, err := client.BatchV1().CronJobs("default").Create(ctx, &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: batchv1.CronJobSpec{Schedule: "* * * * *", TimeZone: ptr.To("Etc/UTC"), JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The fake clock starts at the CronJob's creation, well before the
	// next minute.
	clk := clocktesting.NewFakeClock(cj.CreationTimestamp.Time)
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	t.Cleanup(broadcaster.Shutdown)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := cronjob.New(client, factory.Batch().V1().CronJobs(), factory.Batch().V1().Jobs(), cronjob.Options{
		Recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: cronjob.Component}),
		Logger:   integration.Logger(t), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, cronjob.DefaultConcurrentSyncs) })

	// Synced once, nothing to do yet.
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return c.Stats().Syncs > 0, nil
	}); err != nil {
		t.Fatal("the CronJob was never synced")
	}
	if jobs, _ := client.BatchV1().Jobs("default").List(ctx, metav1.ListOptions{}); len(jobs.Items) != 0 {
		t.Fatalf("jobs before the start time: %d", len(jobs.Items))
	}
	next := cj.CreationTimestamp.Time.Truncate(time.Minute).Add(time.Minute)
	clk.SetTime(next.Add(time.Second))
	name := "hello-" + strconv.FormatInt(next.Unix()/60, 10)
	var job *batchv1.Job
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		job, err = client.BatchV1().Jobs("default").Get(ctx, name, metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		t.Fatalf("no job %s once the clock reached %s", name, next)
	}
	if got := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != next.UTC().Format(time.RFC3339) {
		t.Errorf("scheduled timestamp %q", got)
	}
	if ref := metav1.GetControllerOf(job); ref == nil || ref.UID != cj.UID {
		t.Errorf("job owner %v", ref)
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		cj, err = client.BatchV1().CronJobs("default").Get(ctx, "hello", metav1.GetOptions{})
		return err == nil && len(cj.Status.Active) == 1 && cj.Status.Active[0].UID == job.UID &&
			cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Time.Equal(next), nil
	}); err != nil {
		t.Fatalf("cronjob status %+v", cj.Status)
	}

	// The Job completes.
	now := metav1.NewTime(time.Now())
	job.Status = batchv1.JobStatus{StartTime: &now, CompletionTime: &now, Succeeded: 1, Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now}}}
	if _, err := client.BatchV1().Jobs("default").UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		cj, err = client.BatchV1().CronJobs("default").Get(ctx, "hello", metav1.GetOptions{})
		return err == nil && len(cj.Status.Active) == 0 && cj.Status.LastSuccessfulTime != nil, nil
	}); err != nil {
		t.Fatalf("cronjob status after the job completed: %+v", cj.Status)
	}
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		evs, err := client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			seen[e.Reason+" "+e.Message] = true
		}
		return seen["SuccessfulCreate Created job "+name] && seen["SawCompletedJob Saw completed job: "+name+", condition: Complete"], nil
	}); err != nil {
		t.Error("events SuccessfulCreate and SawCompletedJob not recorded")
	}
}
