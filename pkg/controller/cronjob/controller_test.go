package cronjob

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

func newCronJob(name, schedule string, created time.Time) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(created)},
		Spec: batchv1.CronJobSpec{Schedule: schedule, ConcurrencyPolicy: batchv1.AllowConcurrent, Suspend: ptr.To(false),
			SuccessfulJobsHistoryLimit: ptr.To[int32](3), FailedJobsHistoryLimit: ptr.To[int32](1),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "hello"}, Annotations: map[string]string{"a": "b"}},
				Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure,
					Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}},
	}
}

// ownedJob is a Job of cj for the start time at, finished as cond says
// ("" running).
func ownedJob(cj *batchv1.CronJob, at time.Time, cond batchv1.JobConditionType) *batchv1.Job {
	j, _ := jobFromTemplate(cj, at)
	j.UID = types.UID("uid-" + j.Name)
	j.Status.StartTime = &metav1.Time{Time: at}
	if cond != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue}}
		if cond == batchv1.JobComplete {
			j.Status.CompletionTime = &metav1.Time{Time: at.Add(10 * time.Second)}
		}
	}
	return j
}

func activeRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: j.Namespace, Name: j.Name, UID: j.UID}
}

type fixture struct {
	*controllertest.Fixture
	c   *Controller
	rec *record.FakeRecorder
}

func newFixture(t *testing.T, objs ...runtime.Object) *fixture {
	f := &fixture{Fixture: controllertest.New(t, objs...), rec: record.NewFakeRecorder(1000)}
	c, err := New(f.Client, f.Informers.Batch().V1().CronJobs(), f.Informers.Batch().V1().Jobs(),
		Options{Recorder: f.rec, Logger: f.Logger, Clock: f.Clock})
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
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

// refresh makes the caches show the fake API, as the informers would.
func (f *fixture) refresh() {
	f.T.Helper()
	cjs, _ := f.Client.BatchV1().CronJobs("").List(f.Ctx, metav1.ListOptions{})
	jobs, _ := f.Client.BatchV1().Jobs("").List(f.Ctx, metav1.ListOptions{})
	replace(f.T, f.Informers.Batch().V1().CronJobs().Informer().GetIndexer(), cjs.Items)
	replace(f.T, f.Informers.Batch().V1().Jobs().Informer().GetIndexer(), jobs.Items)
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

func (f *fixture) cronJob(name string) *batchv1.CronJob {
	cj, err := f.Client.BatchV1().CronJobs("default").Get(f.Ctx, name, metav1.GetOptions{})
	if err != nil {
		f.T.Fatal(err)
	}
	return cj
}

func (f *fixture) jobNames() []string {
	l, _ := f.Client.BatchV1().Jobs("default").List(f.Ctx, metav1.ListOptions{})
	var out []string
	for _, j := range l.Items {
		out = append(out, j.Name)
	}
	slices.Sort(out)
	return out
}

// waitDepth waits until the loop's queue holds n ready keys (delayed keys
// become ready as the fake clock passes their time).
func (f *fixture) waitDepth(n int) bool {
	for range 200 {
		if f.c.Stats().Depth == n {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// TestCreatesJobAtScheduledTime: nothing before the first start time, a
// requeue for it (plus 100 ms) on the injected clock, then the Job
// <name>-<minutes>, its annotation, owner and the CronJob's status.
func TestCreatesJobAtScheduledTime(t *testing.T) {
	epoch := controllertest.Epoch()
	f := newFixture(t, newCronJob("hello", "*/5 * * * *", epoch))
	f.MustSync(f.c.sync, "default/hello")
	f.ExpectActions()
	// Requeued at 00:05:00.1.
	f.Clock.Step(5*time.Minute - time.Millisecond)
	if f.waitDepth(1) {
		t.Fatal("requeued before the start time")
	}
	f.Clock.Step(101 * time.Millisecond)
	if !f.waitDepth(1) {
		t.Fatal("not requeued at the start time")
	}
	f.MustSync(f.c.sync, "default/hello")
	scheduled := epoch.Add(5 * time.Minute)
	name := "hello-" + itoa(scheduled.Unix()/60)
	f.ExpectActions(
		controllertest.Action{Verb: "create", Resource: "jobs", Namespace: "default", Name: name},
		controllertest.Action{Verb: "update", Resource: "cronjobs", Subresource: "status", Namespace: "default", Name: "hello"})
	job, err := f.Client.BatchV1().Jobs("default").Get(f.Ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := metav1.GetControllerOf(job)
	if job.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "2026-01-01T00:05:00Z" || job.Annotations["a"] != "b" ||
		job.Labels["app"] != "hello" || ref == nil || ref.Kind != "CronJob" || ref.UID != "uid-hello" ||
		job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("job %+v", job.ObjectMeta)
	}
	cj := f.cronJob("hello")
	if len(cj.Status.Active) != 1 || cj.Status.Active[0].Name != name || cj.Status.Active[0].Kind != "Job" ||
		!cj.Status.LastScheduleTime.Time.Equal(scheduled) {
		t.Errorf("status %+v", cj.Status)
	}
	if evs := f.events(); !slices.Equal(evs, []string{"Normal SuccessfulCreate Created job " + name}) {
		t.Errorf("events %q", evs)
	}
	// Synced again at the same time: nothing more.
	f.refresh()
	f.ClearActions()
	f.MustSync(f.c.sync, "default/hello")
	f.ExpectActions()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTimeZone: "0 9 * * *" in America/New_York fires at 14:00 UTC in
// winter, and the annotation is in that zone.
func TestTimeZone(t *testing.T) {
	cj := newCronJob("ny", "0 9 * * *", controllertest.Epoch().Add(-time.Hour))
	cj.Spec.TimeZone = ptr.To("America/New_York")
	f := newFixture(t, cj)
	f.Clock.SetTime(time.Date(2026, 1, 1, 14, 0, 30, 0, time.UTC))
	f.MustSync(f.c.sync, "default/ny")
	names := f.jobNames()
	if len(names) != 1 {
		t.Fatalf("jobs %v", names)
	}
	job, _ := f.Client.BatchV1().Jobs("default").Get(f.Ctx, names[0], metav1.GetOptions{})
	if got := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-01-01T09:00:00-05:00" {
		t.Errorf("scheduled timestamp %q", got)
	}
}

// TestForbidAndReplace: Forbid skips a start while a Job runs; Replace
// deletes it and creates the new one.
func TestForbidAndReplace(t *testing.T) {
	epoch := controllertest.Epoch()
	for _, policy := range []batchv1.ConcurrencyPolicy{batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent} {
		t.Run(string(policy), func(t *testing.T) {
			cj := newCronJob("c", "* * * * *", epoch.Add(-2*time.Minute))
			cj.Spec.ConcurrencyPolicy = policy
			running := ownedJob(cj, epoch.Add(-time.Minute), "")
			cj.Status.Active = []corev1.ObjectReference{activeRef(running)}
			cj.Status.LastScheduleTime = &metav1.Time{Time: epoch.Add(-time.Minute)}
			f := newFixture(t, cj, running)
			f.Clock.Step(10 * time.Second)
			f.MustSync(f.c.sync, "default/c")
			evs, names := f.events(), f.jobNames()
			if policy == batchv1.ForbidConcurrent {
				if !slices.Equal(names, []string{running.Name}) || !slices.Contains(evs, "Normal JobAlreadyActive Not starting job because prior execution is running and concurrency policy is Forbid") {
					t.Errorf("jobs %v, events %q", names, evs)
				}
				return
			}
			want := "c-" + itoa(epoch.Unix()/60)
			if !slices.Equal(names, []string{want}) || !slices.Contains(evs, "Normal SuccessfulDelete Deleted job "+running.Name) {
				t.Errorf("jobs %v, events %q", names, evs)
			}
			if st := f.cronJob("c").Status; len(st.Active) != 1 || st.Active[0].Name != want {
				t.Errorf("active %+v", st.Active)
			}
		})
	}
}

// TestMissedSchedules: a start time older than startingDeadlineSeconds is
// not run (as upstream, counting from now-deadline, which leaves its
// MissSchedule event for start times that pass during a sync); without a
// deadline, more than 100 missed start times are warned about and the
// latest one is run.
func TestMissedSchedules(t *testing.T) {
	epoch := controllertest.Epoch()
	late := newCronJob("late", "0 * * * *", epoch.Add(-2*time.Hour))
	late.Status.LastScheduleTime = &metav1.Time{Time: epoch.Add(-time.Hour)}
	late.Spec.StartingDeadlineSeconds = ptr.To[int64](60)
	many := newCronJob("many", "* * * * *", epoch.Add(-24*time.Hour))
	f := newFixture(t, late, many)
	f.Clock.Step(5 * time.Minute)
	f.MustSync(f.c.sync, "default/late")
	if evs := f.events(); len(evs) != 0 || len(f.jobNames()) != 0 {
		t.Errorf("events %q, jobs %v", evs, f.jobNames())
	}
	f.MustSync(f.c.sync, "default/many")
	evs := f.events()
	if len(evs) != 2 || evs[0] != "Warning TooManyMissedTimes too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew" {
		t.Errorf("events %q", evs)
	}
	if names := f.jobNames(); !slices.Equal(names, []string{"many-" + itoa(epoch.Add(5*time.Minute).Unix()/60)}) {
		t.Errorf("jobs %v: want the latest start time's", names)
	}
}

// TestFinishedJobsAndHistory: a finished active Job leaves status.active
// (SawCompletedJob), sets lastSuccessfulTime, and finished Jobs past the
// history limits go, oldest first.
func TestFinishedJobsAndHistory(t *testing.T) {
	epoch := controllertest.Epoch()
	cj := newCronJob("h", "0 * * * *", epoch.Add(-10*time.Hour))
	cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](2)
	cj.Status.LastScheduleTime = &metav1.Time{Time: epoch.Add(-time.Hour)}
	objs := []runtime.Object{}
	var jobs []*batchv1.Job
	for i := 5; i >= 1; i-- {
		cond := batchv1.JobComplete
		if i == 4 || i == 5 {
			cond = batchv1.JobFailed
		}
		jobs = append(jobs, ownedJob(cj, epoch.Add(-time.Duration(i)*time.Hour), cond))
	}
	cj.Status.Active = []corev1.ObjectReference{activeRef(jobs[4])}
	objs = append(objs, cj)
	for _, j := range jobs {
		objs = append(objs, j)
	}
	f := newFixture(t, objs...)
	f.Clock.Step(time.Minute)
	f.MustSync(f.c.sync, "default/h")
	// Failed: 5h and 4h ago, limit 1: the 5h one goes. Complete: 3h, 2h,
	// 1h ago, limit 2: the 3h one goes.
	want := []string{jobs[1].Name, jobs[3].Name, jobs[4].Name, "h-" + itoa(epoch.Unix()/60)}
	slices.Sort(want)
	if names := f.jobNames(); !slices.Equal(names, want) {
		t.Errorf("jobs %v, want %v", names, want)
	}
	st := f.cronJob("h").Status
	if len(st.Active) != 1 || st.LastSuccessfulTime == nil || !st.LastSuccessfulTime.Time.Equal(epoch.Add(-time.Hour+10*time.Second)) {
		t.Errorf("status %+v", st)
	}
	evs := f.events()
	if count(evs, "Normal SuccessfulDelete Deleted job h-") != 2 || !slices.Contains(evs, "Normal SawCompletedJob Saw completed job: "+jobs[4].Name+", condition: Complete") {
		t.Errorf("events %q", evs)
	}
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

// TestSuspendedAndMissing: a suspended CronJob creates nothing; an active
// Job the API no longer has leaves status.active (MissingJob).
func TestSuspendedAndMissing(t *testing.T) {
	epoch := controllertest.Epoch()
	cj := newCronJob("s", "* * * * *", epoch.Add(-time.Hour))
	cj.Spec.Suspend = ptr.To(true)
	cj.Status.Active = []corev1.ObjectReference{{Kind: "Job", Namespace: "default", Name: "s-1", UID: "gone"}}
	f := newFixture(t, cj)
	f.MustSync(f.c.sync, "default/s")
	if st := f.cronJob("s").Status; len(st.Active) != 0 || len(f.jobNames()) != 0 {
		t.Errorf("status %+v, jobs %v", st, f.jobNames())
	}
	if evs := f.events(); !slices.Equal(evs, []string{"Normal MissingJob Active job went missing: s-1"}) {
		t.Errorf("events %q", evs)
	}
}

func TestMostRecentScheduleTime(t *testing.T) {
	epoch := controllertest.Epoch()
	sched, err := parseSchedule("*/10 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	cj := newCronJob("x", "*/10 * * * *", epoch)
	for _, tc := range []struct {
		now    time.Duration
		want   time.Duration // -1: none
		missed int64
	}{
		{5 * time.Minute, -1, 0},
		{10 * time.Minute, 10 * time.Minute, 0},
		{15 * time.Minute, 10 * time.Minute, 0},
		{35 * time.Minute, 30 * time.Minute, 3},
	} {
		_, got, missed, err := mostRecentScheduleTime(cj, epoch.Add(tc.now), sched, false)
		if err != nil || (tc.want < 0) != (got == nil) || (got != nil && !got.Equal(epoch.Add(tc.want))) || missed != tc.missed {
			t.Errorf("now +%s: %v, %d missed, %v; want +%s, %d", tc.now, got, missed, err, tc.want, tc.missed)
		}
	}
}
