package job

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// newJob returns a Job as the apiserver stores it: defaulted, with the
// generated selector and template labels.
func newJob(name string, completions, parallelism *int32) *batchv1.Job {
	uid := types.UID("uid-" + name)
	lbls := map[string]string{batchv1.ControllerUidLabel: string(uid), batchv1.JobNameLabel: name,
		"controller-uid": string(uid), "job-name": name}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: uid, Generation: 1, ResourceVersion: "1"},
		Spec: batchv1.JobSpec{
			Completions: completions, Parallelism: parallelism, BackoffLimit: ptr.To[int32](6),
			CompletionMode: ptr.To(batchv1.NonIndexedCompletion), Suspend: ptr.To(false),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: string(uid)}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

type fixture struct {
	*controllertest.Fixture
	c   *Controller
	rec *record.FakeRecorder
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Fixture: controllertest.New(t, objs...), rec: record.NewFakeRecorder(1000)}
	c, err := New(f.Client, f.Informers.Batch().V1().Jobs(), f.Informers.Core().V1().Pods(),
		Options{Recorder: f.rec, Logger: f.Logger, Clock: f.Clock})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

// refresh makes the caches show what the fake API holds, as the informers
// would, and lets the controller observe it (expectations included).
func (f *fixture) refresh() {
	f.T.Helper()
	jobs, err := f.Client.BatchV1().Jobs("").List(f.Ctx, metav1.ListOptions{})
	if err != nil {
		f.T.Fatal(err)
	}
	pods, err := f.Client.CoreV1().Pods("").List(f.Ctx, metav1.ListOptions{})
	if err != nil {
		f.T.Fatal(err)
	}
	replace(f.T, f.Informers.Batch().V1().Jobs().Informer().GetIndexer(), jobs.Items)
	replace(f.T, f.Informers.Core().V1().Pods().Informer().GetIndexer(), pods.Items)
	f.c.expectations = newExpectations(f.Clock)
	f.c.finalizers = newFinalizerExpectations()
	f.c.finished.Clear()
}

func replace[T any](t testing.TB, idx cache.Indexer, items []T) {
	var objs []any
	for i := range items {
		objs = append(objs, &items[i])
	}
	if err := idx.Replace(objs, ""); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) job(name string) *batchv1.Job {
	f.T.Helper()
	j, err := f.Client.BatchV1().Jobs("default").Get(f.Ctx, name, metav1.GetOptions{})
	if err != nil {
		f.T.Fatal(err)
	}
	return j
}

func (f *fixture) pods() []corev1.Pod {
	f.T.Helper()
	l, err := f.Client.CoreV1().Pods("default").List(f.Ctx, metav1.ListOptions{})
	if err != nil {
		f.T.Fatal(err)
	}
	slices.SortFunc(l.Items, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return l.Items
}

// setPhase sets a pod's phase (and a terminated container) as a kubelet
// would, in the fake API.
func (f *fixture) setPhase(name string, phase corev1.PodPhase, exitCode int32) {
	f.T.Helper()
	p, err := f.Client.CoreV1().Pods("default").Get(f.Ctx, name, metav1.GetOptions{})
	if err != nil {
		f.T.Fatal(err)
	}
	p.Status.Phase = phase
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: exitCode, FinishedAt: metav1.NewTime(f.Clock.Now())}}}}
	if _, err := f.Client.CoreV1().Pods("default").UpdateStatus(f.Ctx, p, metav1.UpdateOptions{}); err != nil {
		f.T.Fatal(err)
	}
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func cond(j *batchv1.Job, typ batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == typ {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func count(evs []string, prefix string) int {
	n := 0
	for _, e := range evs {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// TestJobRunsToCompletion: completions 3, parallelism 2: two pods, then
// the third after a success, counted through uncountedTerminatedPods and
// the finalizer, then SuccessCriteriaMet and Complete.
func TestJobRunsToCompletion(t *testing.T) {
	f := newFixture(t, newJob("pi", ptr.To[int32](3), ptr.To[int32](2)))
	f.MustSync(f.c.sync, "default/pi")
	pods := f.pods()
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2", len(pods))
	}
	p := pods[0]
	if !strings.HasPrefix(p.Name, "pi-") || p.Labels[batchv1.JobNameLabel] != "pi" || p.Labels["controller-uid"] != "uid-pi" ||
		!slices.Equal(p.Finalizers, []string{batchv1.JobTrackingFinalizer}) || metav1.GetControllerOf(&p).UID != "uid-pi" ||
		!*metav1.GetControllerOf(&p).BlockOwnerDeletion || metav1.GetControllerOf(&p).Kind != "Job" {
		t.Errorf("pod %+v", p.ObjectMeta)
	}
	j := f.job("pi")
	if j.Status.Active != 2 || j.Status.StartTime == nil || *j.Status.Ready != 0 || *j.Status.Terminating != 0 {
		t.Errorf("status %+v", j.Status)
	}
	if evs := f.events(); count(evs, "Normal SuccessfulCreate Created pod: pi-") != 2 {
		t.Errorf("events %q", evs)
	}

	// One succeeds: counted, its finalizer removed, a third pod created.
	f.refresh()
	f.setPhase(pods[0].Name, corev1.PodSucceeded, 0)
	f.refresh()
	f.MustSync(f.c.sync, "default/pi")
	j = f.job("pi")
	if j.Status.Succeeded != 1 || j.Status.Active != 2 || len(j.Status.UncountedTerminatedPods.Succeeded) != 0 {
		t.Errorf("after a success: %+v", j.Status)
	}
	pods = f.pods()
	if len(pods) != 3 || len(pods[0].Finalizers) != 0 {
		t.Fatalf("pods %v", pods)
	}

	// The other two succeed.
	f.refresh()
	f.setPhase(pods[1].Name, corev1.PodSucceeded, 0)
	f.setPhase(pods[2].Name, corev1.PodSucceeded, 0)
	f.refresh()
	f.Clock.Step(time.Minute)
	f.MustSync(f.c.sync, "default/pi")
	j = f.job("pi")
	if j.Status.Succeeded != 3 || j.Status.Active != 0 || j.Status.CompletionTime == nil {
		t.Errorf("after three successes: %+v", j.Status)
	}
	scm, complete := cond(j, batchv1.JobSuccessCriteriaMet), cond(j, batchv1.JobComplete)
	if scm == nil || scm.Reason != batchv1.JobReasonCompletionsReached || complete == nil || complete.Status != corev1.ConditionTrue ||
		complete.Message != "Reached expected number of succeeded pods" {
		t.Errorf("conditions %+v", j.Status.Conditions)
	}
	if evs := f.events(); !slices.Contains(evs, "Normal Completed Job completed") {
		t.Errorf("events %q", evs)
	}
	// Finished: nothing more.
	f.refresh()
	f.ClearActions()
	f.MustSync(f.c.sync, "default/pi")
	f.ExpectActions()
}

// TestBackoffLimitExceeded: failed pods are recreated after the backoff;
// past backoffLimit the Job fails (FailureTarget, then Failed) and its
// active pod is deleted.
func TestBackoffLimitExceeded(t *testing.T) {
	job := newJob("fail", ptr.To[int32](1), ptr.To[int32](1))
	job.Spec.BackoffLimit = ptr.To[int32](1)
	f := newFixture(t, job)
	f.MustSync(f.c.sync, "default/fail")
	first := f.pods()[0].Name
	f.refresh()
	f.setPhase(first, corev1.PodFailed, 1)
	f.refresh()
	f.MustSync(f.c.sync, "default/fail")
	j := f.job("fail")
	if j.Status.Failed != 1 || j.Status.Active != 0 || len(f.pods()) != 1 {
		t.Fatalf("after one failure: %+v, %d pods", j.Status, len(f.pods()))
	}
	// In backoff: 10 s after the failure.
	f.refresh()
	f.Clock.Step(5 * time.Second)
	f.MustSync(f.c.sync, "default/fail")
	if len(f.pods()) != 1 {
		t.Fatal("a pod was created during the backoff")
	}
	f.Clock.Step(6 * time.Second)
	f.refresh()
	f.MustSync(f.c.sync, "default/fail")
	pods := f.pods()
	if len(pods) != 2 {
		t.Fatalf("%d pods after the backoff, want 2", len(pods))
	}
	second := pods[0].Name
	if second == first {
		second = pods[1].Name
	}
	f.refresh()
	f.setPhase(second, corev1.PodFailed, 1)
	f.refresh()
	f.MustSync(f.c.sync, "default/fail")
	j = f.job("fail")
	ft, failed := cond(j, batchv1.JobFailureTarget), cond(j, batchv1.JobFailed)
	if j.Status.Failed != 2 || ft == nil || failed == nil || failed.Reason != "BackoffLimitExceeded" ||
		failed.Message != "Job has reached the specified backoff limit" || j.Status.CompletionTime != nil {
		t.Errorf("status %+v", j.Status)
	}
	if evs := f.events(); !slices.Contains(evs, "Warning BackoffLimitExceeded Job has reached the specified backoff limit") {
		t.Errorf("events %q", evs)
	}
}

// TestBackoffDoubles: 10 s, 20 s, 40 s… capped at 10 minutes.
func TestBackoffDoubles(t *testing.T) {
	f := controllertest.New(t)
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		6: 320 * time.Second, 7: 10 * time.Minute, 20: 10 * time.Minute} {
		r := backoffRecord{failuresAfterLastSuccess: n, lastFailureTime: f.Clock.Now()}
		if got := r.remaining(f.Clock); got != want {
			t.Errorf("%d failures: %s, want %s", n, got, want)
		}
	}
	r := backoffRecord{failuresAfterLastSuccess: 2, lastFailureTime: f.Clock.Now().Add(-15 * time.Second)}
	if got := r.remaining(f.Clock); got != 5*time.Second {
		t.Errorf("15 s after the second failure: %s left, want 5s", got)
	}
}

// TestActiveDeadline: past activeDeadlineSeconds the running pod is
// deleted and the Job fails with DeadlineExceeded.
func TestActiveDeadline(t *testing.T) {
	job := newJob("slow", nil, ptr.To[int32](1))
	job.Spec.ActiveDeadlineSeconds = ptr.To[int64](30)
	f := newFixture(t, job)
	f.MustSync(f.c.sync, "default/slow")
	f.refresh()
	f.Clock.Step(31 * time.Second)
	f.MustSync(f.c.sync, "default/slow")
	if n := len(f.pods()); n != 0 {
		t.Errorf("%d pods left", n)
	}
	j := f.job("slow")
	if c := cond(j, batchv1.JobFailureTarget); c == nil || c.Reason != "DeadlineExceeded" {
		t.Fatalf("conditions %+v", j.Status.Conditions)
	}
	// The deleted pod is gone (the fake API ignores finalizers): Failed.
	f.refresh()
	f.MustSync(f.c.sync, "default/slow")
	j = f.job("slow")
	if c := cond(j, batchv1.JobFailed); c == nil || c.Message != "Job was active longer than specified deadline" {
		t.Errorf("conditions %+v", j.Status.Conditions)
	}
	evs := f.events()
	if !slices.Contains(evs, "Warning DeadlineExceeded Job was active longer than specified deadline") || count(evs, "Normal SuccessfulDelete Deleted pod: slow-") != 1 {
		t.Errorf("events %q", evs)
	}
}

// TestIndexedJob: one pod per index with the annotation, label, hostname,
// generateName and JOB_COMPLETION_INDEX; completedIndexes counts them.
func TestIndexedJob(t *testing.T) {
	job := newJob("idx", ptr.To[int32](3), ptr.To[int32](3))
	job.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
	f := newFixture(t, job)
	f.MustSync(f.c.sync, "default/idx")
	pods := f.pods()
	if len(pods) != 3 {
		t.Fatalf("%d pods", len(pods))
	}
	for i, p := range pods {
		ix := fmt.Sprint(i)
		env := p.Spec.Containers[0].Env
		if !strings.HasPrefix(p.Name, "idx-"+ix+"-") || p.Annotations[batchv1.JobCompletionIndexAnnotation] != ix ||
			p.Labels[batchv1.JobCompletionIndexAnnotation] != ix || p.Spec.Hostname != "idx-"+ix || len(env) != 1 ||
			env[0].Name != "JOB_COMPLETION_INDEX" || env[0].ValueFrom.FieldRef.FieldPath != "metadata.labels['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("pod %d: %s %v %v %s %+v", i, p.Name, p.Annotations, p.Labels, p.Spec.Hostname, env)
		}
	}
	f.refresh()
	f.setPhase(pods[0].Name, corev1.PodSucceeded, 0)
	f.setPhase(pods[2].Name, corev1.PodSucceeded, 0)
	f.refresh()
	f.MustSync(f.c.sync, "default/idx")
	j := f.job("idx")
	if j.Status.CompletedIndexes != "0,2" || j.Status.Succeeded != 2 || j.Status.Active != 1 {
		t.Errorf("status %+v", j.Status)
	}
	// Index 1 fails and is recreated after the backoff, with index 1.
	f.refresh()
	f.setPhase(pods[1].Name, corev1.PodFailed, 1)
	f.refresh()
	f.MustSync(f.c.sync, "default/idx")
	f.refresh()
	f.Clock.Step(11 * time.Second)
	f.MustSync(f.c.sync, "default/idx")
	var again []corev1.Pod
	for _, p := range f.pods() {
		if strings.HasPrefix(p.Name, "idx-1-") && p.Name != pods[1].Name {
			again = append(again, p)
		}
	}
	if len(again) != 1 {
		t.Fatalf("index 1 recreated %d times", len(again))
	}
	f.refresh()
	f.setPhase(again[0].Name, corev1.PodSucceeded, 0)
	f.refresh()
	f.MustSync(f.c.sync, "default/idx")
	j = f.job("idx")
	if j.Status.CompletedIndexes != "0-2" || j.Status.Succeeded != 3 || j.Status.Failed != 1 || cond(j, batchv1.JobComplete) == nil {
		t.Errorf("status %+v", j.Status)
	}
}

// TestSuspend: a suspended Job's pods are deleted (their finalizers
// removed first) and it gets Suspended; resuming creates pods again.
func TestSuspend(t *testing.T) {
	f := newFixture(t, newJob("s", ptr.To[int32](2), ptr.To[int32](2)))
	f.MustSync(f.c.sync, "default/s")
	f.refresh()
	j := f.job("s")
	j.Spec.Suspend = ptr.To(true)
	if _, err := f.Client.BatchV1().Jobs("default").Update(f.Ctx, j, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	f.MustSync(f.c.sync, "default/s")
	j = f.job("s")
	if n := len(f.pods()); n != 0 || j.Status.Active != 0 {
		t.Errorf("%d pods, status %+v", n, j.Status)
	}
	if c := cond(j, batchv1.JobSuspended); c == nil || c.Status != corev1.ConditionTrue || c.Reason != "JobSuspended" || j.Status.StartTime != nil {
		t.Errorf("conditions %+v", j.Status.Conditions)
	}
	if evs := f.events(); !slices.Contains(evs, "Normal Suspended Job suspended") || count(evs, "Normal SuccessfulDelete") != 2 {
		t.Errorf("events %q", evs)
	}
	j.Spec.Suspend = ptr.To(false)
	if _, err := f.Client.BatchV1().Jobs("default").Update(f.Ctx, j, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	f.MustSync(f.c.sync, "default/s")
	j = f.job("s")
	if c := cond(j, batchv1.JobSuspended); len(f.pods()) != 2 || c == nil || c.Status != corev1.ConditionFalse || c.Reason != "JobResumed" || j.Status.StartTime == nil {
		t.Errorf("after resume: %d pods, %+v", len(f.pods()), j.Status.Conditions)
	}
}

// TestPodFailurePolicy: an Ignore rule does not count the failure; a
// FailJob rule fails the Job with upstream's message.
func TestPodFailurePolicy(t *testing.T) {
	job := newJob("pfp", ptr.To[int32](1), ptr.To[int32](1))
	job.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{Action: batchv1.PodFailurePolicyActionIgnore, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{3}}},
		{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
	}}
	f := newFixture(t, job)
	f.MustSync(f.c.sync, "default/pfp")
	f.refresh()
	first := f.pods()[0].Name
	f.setPhase(first, corev1.PodFailed, 3)
	f.refresh()
	f.MustSync(f.c.sync, "default/pfp")
	// Ignored failures back off too, as upstream's.
	f.refresh()
	f.Clock.Step(11 * time.Second)
	f.MustSync(f.c.sync, "default/pfp")
	if j := f.job("pfp"); j.Status.Failed != 0 || len(f.pods()) != 2 {
		t.Fatalf("ignored failure: %+v, %d pods", j.Status, len(f.pods()))
	}
	f.refresh()
	var second string
	for _, p := range f.pods() {
		if p.Name != first {
			second = p.Name
		}
	}
	f.setPhase(second, corev1.PodFailed, 42)
	f.refresh()
	f.MustSync(f.c.sync, "default/pfp")
	j := f.job("pfp")
	want := fmt.Sprintf("Container c for pod default/%s failed with exit code 42 matching FailJob rule at index 1", second)
	if c := cond(j, batchv1.JobFailed); c == nil || c.Reason != "PodFailurePolicy" || c.Message != want || j.Status.Failed != 1 {
		t.Errorf("status %+v", j.Status)
	}
}

// TestOrphanFinalizerRemoved: a pod with the tracking finalizer and no
// controller loses the finalizer.
func TestOrphanFinalizerRemoved(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "o", UID: "o", Finalizers: []string{batchv1.JobTrackingFinalizer}}}
	f := newFixture(t, pod)
	f.MustSync(f.c.sync, orphanPrefix+"default/o")
	f.ExpectActions(controllertest.Action{Verb: "patch", Resource: "pods", Namespace: "default", Name: "o"})
	if p := f.pods()[0]; len(p.Finalizers) != 0 {
		t.Errorf("finalizers %v", p.Finalizers)
	}
}

func TestIntervals(t *testing.T) {
	for _, tc := range []struct {
		in   string
		add  []int
		want string
	}{
		{"", []int{3, 1, 2}, "1-3"},
		{"0,2", nil, "0,2"},
		{"0-2,5", []int{3}, "0-3,5"},
		{"1,2", []int{7}, "1,2,7"},
		{"0-20", nil, "0-9"},
	} {
		got := parseIntervals(tc.in, 10).with(tc.add...)
		if got.String() != tc.want {
			t.Errorf("%q + %v = %q, want %q", tc.in, tc.add, got, tc.want)
		}
	}
}

// TestAdoptAndRelease: an orphan matching the selector is adopted (owner
// and finalizer patched in, after a fresh read of the Job); a pod of the
// Job that stopped matching is released.
func TestAdoptAndRelease(t *testing.T) {
	job := newJob("a", ptr.To[int32](2), ptr.To[int32](2))
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "orphan", UID: "orphan",
		Labels: map[string]string{batchv1.ControllerUidLabel: "uid-a"}}}
	strayed := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "strayed", UID: "strayed",
		Labels: map[string]string{"other": "x"}, OwnerReferences: []metav1.OwnerReference{*controllerRef(job)}}}
	f := newFixture(t, job, orphan, strayed)
	f.MustSync(f.c.sync, "default/a")
	acts := f.Actions()
	if len(acts) < 3 {
		t.Fatalf("actions %v", acts)
	}
	for _, want := range []controllertest.Action{
		{Verb: "get", Resource: "jobs", Namespace: "default", Name: "a"},
		{Verb: "patch", Resource: "pods", Namespace: "default", Name: "orphan"},
		{Verb: "patch", Resource: "pods", Namespace: "default", Name: "strayed"},
		{Verb: "create", Resource: "pods", Namespace: "default", Name: "a-"},
	} {
		if !slices.ContainsFunc(acts, func(a k8stesting.Action) bool { return controllertest.Describe(a) == want }) {
			t.Errorf("no %s in %v", want, acts)
		}
	}
	for _, p := range f.pods() {
		ref := metav1.GetControllerOf(&p)
		switch p.Name {
		case "orphan":
			if ref == nil || ref.UID != "uid-a" || !slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer) {
				t.Errorf("orphan not adopted: %+v", p.ObjectMeta)
			}
		case "strayed":
			if ref != nil {
				t.Errorf("strayed pod not released: %+v", p.OwnerReferences)
			}
		}
	}
	// One pod adopted: one created to reach parallelism 2.
	if n := len(f.pods()); n != 3 {
		t.Errorf("%d pods, want the two seeded and one created", n)
	}
}

// TestWorkQueueJob: without completions, the Job completes once a pod
// succeeded and the others finished; no pod is created after a success.
func TestWorkQueueJob(t *testing.T) {
	f := newFixture(t, newJob("wq", nil, ptr.To[int32](2)))
	f.MustSync(f.c.sync, "default/wq")
	pods := f.pods()
	f.refresh()
	f.setPhase(pods[0].Name, corev1.PodSucceeded, 0)
	f.refresh()
	f.MustSync(f.c.sync, "default/wq")
	if j := f.job("wq"); len(f.pods()) != 2 || j.Status.Active != 1 || cond(j, batchv1.JobComplete) != nil {
		t.Fatalf("after one success: %d pods, %+v", len(f.pods()), j.Status)
	}
	f.refresh()
	f.setPhase(pods[1].Name, corev1.PodSucceeded, 0)
	f.refresh()
	f.MustSync(f.c.sync, "default/wq")
	if j := f.job("wq"); j.Status.Succeeded != 2 || cond(j, batchv1.JobComplete) == nil {
		t.Errorf("status %+v", j.Status)
	}
}
