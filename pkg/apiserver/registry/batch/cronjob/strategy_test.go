package cronjob

import (
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newCronJob() *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: batchv1.CronJobSpec{
			Schedule: "*/1 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyOnFailure,
				Containers:    []corev1.Container{{Name: "hello", Image: "busybox:1.36", Command: []string{"date"}}},
			}}}},
		},
	}
}

func created(mutate func(*batchv1.CronJob)) (*batchv1.CronJob, field.ErrorList) {
	cj := newCronJob()
	if mutate != nil {
		mutate(cj)
	}
	s := NewStrategy()
	s.PrepareForCreate(context.Background(), cj)
	return cj, s.Validate(context.Background(), cj)
}

func TestDefaults(t *testing.T) {
	cj, errs := created(func(cj *batchv1.CronJob) { cj.Status.Active = []corev1.ObjectReference{{Name: "x"}} })
	Expect(t, errs)
	s := cj.Spec
	if s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
		t.Errorf("defaults: %+v", s)
	}
	if cj.Generation != 1 || len(cj.Status.Active) != 0 {
		t.Errorf("generation %d, status %+v", cj.Generation, cj.Status)
	}
	pod := s.JobTemplate.Spec.Template.Spec
	if pod.DNSPolicy != corev1.DNSClusterFirst || pod.SchedulerName != corev1.DefaultSchedulerName ||
		pod.Containers[0].TerminationMessagePath != corev1.TerminationMessagePathDefault {
		t.Errorf("pod template defaults: %+v", pod)
	}
	// A Job's own defaults wait for the Job made from the template.
	if js := s.JobTemplate.Spec; js.Completions != nil || js.Parallelism != nil || js.BackoffLimit != nil || js.Selector != nil {
		t.Errorf("job defaults applied to the template: %+v", js)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   []Err
		detail string
	}{
		{"descriptor", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "@hourly" }, nil, ""},
		{"time zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Europe/Paris") }, nil, ""},
		{"Forbid, suspended, no history", func(cj *batchv1.CronJob) {
			cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
			cj.Spec.Suspend = ptr.To(true)
			cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](0), ptr.To[int32](0)
		}, nil, ""},
		{"no schedule", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "" }, []Err{E(field.ErrorTypeRequired, "spec.schedule")}, ""},
		{"six fields", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "0 0 2 * * *" },
			[]Err{E(field.ErrorTypeInvalid, "spec.schedule")}, "expected exactly 5 fields, found 6: [0 0 2 * * *]"},
		{"minute 60", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "60 * * * *" },
			[]Err{E(field.ErrorTypeInvalid, "spec.schedule")}, "end of range (60) above maximum (59): 60"},
		{"TZ in schedule", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" },
			[]Err{E(field.ErrorTypeInvalid, "spec.schedule")}, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
		{"CRON_TZ in schedule", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "CRON_TZ=Europe/Paris 0 * * * *" },
			[]Err{E(field.ErrorTypeInvalid, "spec.schedule")}, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
		{"empty time zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("") },
			[]Err{E(field.ErrorTypeInvalid, "spec.timeZone")}, "timeZone must be nil or non-empty string"},
		{"unknown time zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Mars/Olympus_Mons") },
			[]Err{E(field.ErrorTypeInvalid, "spec.timeZone")}, "unknown time zone Mars/Olympus_Mons"},
		{"bad time zone characters", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("../etc/passwd") },
			[]Err{E(field.ErrorTypeInvalid, "spec.timeZone")}, "unknown time zone ../etc/passwd"},
		{"Local", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Local") },
			[]Err{E(field.ErrorTypeInvalid, "spec.timeZone")}, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"},
		{"concurrency policy", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = "Sometimes" },
			[]Err{E(field.ErrorTypeNotSupported, "spec.concurrencyPolicy")}, ""},
		{"negative deadline and limits", func(cj *batchv1.CronJob) {
			cj.Spec.StartingDeadlineSeconds = ptr.To[int64](-1)
			cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](-1), ptr.To[int32](-2)
		}, []Err{E(field.ErrorTypeInvalid, "spec.startingDeadlineSeconds"), E(field.ErrorTypeInvalid, "spec.successfulJobsHistoryLimit"),
			E(field.ErrorTypeInvalid, "spec.failedJobsHistoryLimit")}, ""},
		{"template restartPolicy Always", func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		},
			[]Err{E(field.ErrorTypeRequired, "spec.jobTemplate.spec.template.spec.restartPolicy")}, `valid values: "OnFailure", "Never"`},
		{"template without image", func(cj *batchv1.CronJob) { cj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "" },
			[]Err{E(field.ErrorTypeRequired, "spec.jobTemplate.spec.template.spec.containers[0].image")}, ""},
		{"template negative parallelism", func(cj *batchv1.CronJob) { cj.Spec.JobTemplate.Spec.Parallelism = ptr.To[int32](-1) },
			[]Err{E(field.ErrorTypeInvalid, "spec.jobTemplate.spec.parallelism")}, ""},
		{"template selector", func(cj *batchv1.CronJob) {
			cj.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.jobTemplate.spec.selector")}, "`selector` will be auto-generated"},
		{"template manualSelector", func(cj *batchv1.CronJob) { cj.Spec.JobTemplate.Spec.ManualSelector = ptr.To(true) },
			[]Err{E(field.ErrorTypeNotSupported, "spec.jobTemplate.spec.manualSelector")}, ""},
		{"name of 52", func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 52) }, nil, ""},
		{"name of 53", func(cj *batchv1.CronJob) { cj.Name = strings.Repeat("a", 53) },
			[]Err{E(field.ErrorTypeInvalid, "metadata.name")}, "must be no more than 52 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := created(tc.mutate)
			Expect(t, errs, tc.want...)
			if tc.detail != "" && (len(errs) == 0 || errs[0].Detail != tc.detail) {
				t.Errorf("detail of %v, want %q", errs, tc.detail)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	update := func(old *batchv1.CronJob, mutate func(*batchv1.CronJob)) (*batchv1.CronJob, field.ErrorList) {
		cj := old.DeepCopy()
		mutate(cj)
		s := NewStrategy()
		s.PrepareForUpdate(context.Background(), cj, old)
		return cj, s.ValidateUpdate(context.Background(), cj, old)
	}
	old, errs := created(nil)
	Expect(t, errs)
	old.Status.LastScheduleTime = &metav1.Time{}

	cj, errs := update(old, func(cj *batchv1.CronJob) {
		cj.Spec.Schedule = "0 * * * *"
		cj.Status.LastScheduleTime = nil
	})
	Expect(t, errs)
	if cj.Generation != 2 || cj.Status.LastScheduleTime == nil {
		t.Errorf("generation %d, status %+v after a spec update", cj.Generation, cj.Status)
	}
	cj, _ = update(old, func(cj *batchv1.CronJob) { cj.Labels = map[string]string{"a": "b"} })
	if cj.Generation != 1 {
		t.Errorf("generation %d after a labels update", cj.Generation)
	}

	_, errs = update(old, func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC 0 * * * *" })
	Expect(t, errs, E(field.ErrorTypeInvalid, "spec.schedule"))

	// A schedule that already had a zone keeps it, but not with timeZone.
	withTZ := old.DeepCopy()
	withTZ.Spec.Schedule = "TZ=UTC 0 * * * *"
	_, errs = update(withTZ, func(cj *batchv1.CronJob) { cj.Spec.Schedule = "CRON_TZ=Europe/Paris 30 * * * *" })
	Expect(t, errs)
	_, errs = update(withTZ, func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("UTC") })
	Expect(t, errs, E(field.ErrorTypeInvalid, "spec.schedule"))

	// An unchanged time zone is not checked again; a long name stays.
	stored := old.DeepCopy()
	stored.Name = strings.Repeat("a", 60)
	stored.Spec.TimeZone = ptr.To("Gone/Zone")
	_, errs = update(stored, func(cj *batchv1.CronJob) { cj.Spec.Suspend = ptr.To(true) })
	Expect(t, errs)
	_, errs = update(stored, func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Other/Gone") })
	Expect(t, errs, E(field.ErrorTypeInvalid, "spec.timeZone"))

	st := old.DeepCopy()
	st.Spec.Schedule = "5 * * * *"
	st.Status.Active = []corev1.ObjectReference{{Kind: "Job", Name: "hello-29000000"}}
	NewStatusStrategy().PrepareForUpdate(context.Background(), st, old)
	Expect(t, NewStatusStrategy().ValidateUpdate(context.Background(), st, old))
	if st.Spec.Schedule != old.Spec.Schedule || len(st.Status.Active) != 1 {
		t.Errorf("status update: schedule %q, active %v", st.Spec.Schedule, st.Status.Active)
	}
}
