package job_test

import (
	"context"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/job"
)

// TestIntegrationJobs runs the controller against a real kube-apiserver on
// etcd, with the test playing the kubelet (pod phases set through the
// status subresource): a Job of completions 3 and parallelism 2
// completes, a failing one hits its backoffLimit after one backoff, and an
// Indexed Job completes its three indexes. Pods keep the tracking
// finalizer until counted; events reach the API.
func TestIntegrationJobs(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()

	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	t.Cleanup(broadcaster.Shutdown)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := job.New(client, factory.Batch().V1().Jobs(), factory.Core().V1().Pods(), job.Options{
		Recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: job.Component}),
		Logger:   integration.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, job.DefaultConcurrentSyncs) })

	// The kubelet: pods of "fail" fail, the others succeed.
	kubelet := func(ctx context.Context) {
		for ctx.Err() == nil {
			pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
			if err == nil {
				for i := range pods.Items {
					p := &pods.Items[i]
					if p.Status.Phase != "" && p.Status.Phase != corev1.PodPending || p.DeletionTimestamp != nil {
						continue
					}
					p.Status.Phase = corev1.PodSucceeded
					exit := int32(0)
					if p.Labels[batchv1.JobNameLabel] == "fail" {
						p.Status.Phase, exit = corev1.PodFailed, 1
					}
					now := metav1.Now()
					p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", Image: "busybox", ImageID: "busybox",
						State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit, StartedAt: now, FinishedAt: now}}}}
					_, _ = client.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{})
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	kctx, stopKubelet := context.WithCancel(ctx)
	defer stopKubelet()
	go kubelet(kctx)

	newJob := func(name string, completions, parallelism int32, mutate func(*batchv1.Job)) {
		t.Helper()
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: batchv1.JobSpec{
			Completions: ptr.To(completions), Parallelism: ptr.To(parallelism),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
		if mutate != nil {
			mutate(j)
		}
		if _, err := client.BatchV1().Jobs("default").Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	newJob("pi", 3, 2, nil)
	newJob("fail", 1, 1, func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](1) })
	newJob("indexed", 3, 3, func(j *batchv1.Job) { j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion) })

	pi := waitFinished(ctx, t, client, "pi", batchv1.JobComplete)
	if pi.Status.Succeeded != 3 || pi.Status.Failed != 0 || pi.Status.CompletionTime == nil || pi.Status.StartTime == nil ||
		pi.Status.Active != 0 || !hasCondition(pi, batchv1.JobSuccessCriteriaMet) {
		t.Errorf("pi status %+v", pi.Status)
	}
	indexed := waitFinished(ctx, t, client, "indexed", batchv1.JobComplete)
	if indexed.Status.CompletedIndexes != "0-2" || indexed.Status.Succeeded != 3 {
		t.Errorf("indexed status %+v", indexed.Status)
	}
	fail := waitFinished(ctx, t, client, "fail", batchv1.JobFailed)
	if fail.Status.Failed != 2 || !hasCondition(fail, batchv1.JobFailureTarget) || fail.Status.CompletionTime != nil {
		t.Errorf("fail status %+v", fail.Status)
	}
	for _, cond := range fail.Status.Conditions {
		if cond.Type == batchv1.JobFailed && (cond.Reason != "BackoffLimitExceeded" || cond.Message != "Job has reached the specified backoff limit") {
			t.Errorf("Failed condition %+v", cond)
		}
	}
	// Every pod was counted: no tracking finalizer left. The second pod
	// of "fail" came a backoff (10 s) after the first failed.
	pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	perJob := map[string]int{}
	var failTimes []time.Time
	for _, p := range pods.Items {
		perJob[p.Labels[batchv1.JobNameLabel]]++
		if len(p.Finalizers) != 0 {
			t.Errorf("pod %s kept finalizers %v", p.Name, p.Finalizers)
		}
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.Kind != "Job" || p.Labels["controller-uid"] == "" {
			t.Errorf("pod %s: controller %v, labels %v", p.Name, ref, p.Labels)
		}
		if p.Labels[batchv1.JobNameLabel] == "fail" {
			failTimes = append(failTimes, p.CreationTimestamp.Time)
		}
		if p.Labels[batchv1.JobNameLabel] == "indexed" && !strings.HasPrefix(p.Name, "indexed-"+p.Annotations[batchv1.JobCompletionIndexAnnotation]+"-") {
			t.Errorf("indexed pod %s, annotations %v", p.Name, p.Annotations)
		}
	}
	if perJob["pi"] != 3 || perJob["indexed"] != 3 || perJob["fail"] != 2 {
		t.Errorf("pods per job %v", perJob)
	}
	if len(failTimes) == 2 {
		if d := failTimes[0].Sub(failTimes[1]).Abs(); d < 9*time.Second {
			t.Errorf("the failed pod was replaced after %s, want the 10 s backoff", d)
		}
	}
	// Events, as upstream's.
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		evs, err := client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			seen[e.InvolvedObject.Name+" "+e.Reason] = true
		}
		return seen["pi SuccessfulCreate"] && seen["pi Completed"] && seen["fail BackoffLimitExceeded"] && seen["indexed Completed"], nil
	}); err != nil {
		t.Error("events SuccessfulCreate, Completed, BackoffLimitExceeded not all recorded")
	}
	if st := c.Stats(); st.Drops != 0 {
		t.Errorf("stats %+v", st)
	}
}

func waitFinished(ctx context.Context, t *testing.T, client kubernetes.Interface, name string, want batchv1.JobConditionType) *batchv1.Job {
	t.Helper()
	var j *batchv1.Job
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		j, err = client.BatchV1().Jobs("default").Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, err
		}
		return err == nil && hasCondition(j, want), nil
	}); err != nil {
		t.Fatalf("job %s not %s: %v; status %+v", name, want, err, j.Status)
	}
	return j
}

func hasCondition(j *batchv1.Job, typ batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == typ && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
