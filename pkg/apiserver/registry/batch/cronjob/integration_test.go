package cronjob_test

import (
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// TestIntegrationCronJobs creates, reads, lists and updates a CronJob
// through client-go against the real apiserver on etcd: upstream's
// defaults, generation on spec changes, /status that keeps the spec, and
// 422s with upstream's messages for a TZ= schedule, an unparsable schedule
// and an unknown time zone.
func TestIntegrationCronJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	cjs := inst.Client(t).BatchV1().CronJobs("default")
	ctx := context.Background()

	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Labels: map[string]string{"app": "hello"}},
		Spec: batchv1.CronJobSpec{
			Schedule: "*/1 * * * *",
			TimeZone: ptr.To("Europe/Paris"),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyOnFailure,
				Containers:    []corev1.Container{{Name: "hello", Image: "busybox:1.36", Command: []string{"date"}}},
			}}}},
		},
	}
	created, err := cjs.Create(ctx, cj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	s := created.Spec
	if s.ConcurrencyPolicy != batchv1.AllowConcurrent || s.Suspend == nil || *s.Suspend ||
		ptr.Deref(s.SuccessfulJobsHistoryLimit, -1) != 3 || ptr.Deref(s.FailedJobsHistoryLimit, -1) != 1 || created.Generation != 1 {
		t.Errorf("defaults: %+v, generation %d", s, created.Generation)
	}
	if _, err := cjs.Get(ctx, "hello", metav1.GetOptions{}); err != nil {
		t.Fatalf("get: %v", err)
	}
	list, err := cjs.List(ctx, metav1.ListOptions{LabelSelector: "app=hello"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v, %d items", err, len(list.Items))
	}

	created.Spec.Suspend = ptr.To(true)
	updated, err := cjs.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if !*updated.Spec.Suspend || updated.Generation != 2 {
		t.Errorf("after update: suspend %v, generation %d", *updated.Spec.Suspend, updated.Generation)
	}
	now := metav1.Now()
	updated.Status.LastScheduleTime = &now
	updated.Spec.Schedule = "@daily" // ignored by /status
	st, err := cjs.UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	if st.Status.LastScheduleTime == nil || st.Spec.Schedule != "*/1 * * * *" || st.Generation != 2 {
		t.Errorf("after status update: %+v, schedule %q, generation %d", st.Status, st.Spec.Schedule, st.Generation)
	}

	for _, tc := range []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   string
	}{
		{"tz", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "TZ=UTC */1 * * * *"; cj.Spec.TimeZone = nil },
			`spec.schedule: Invalid value: "TZ=UTC */1 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead`},
		{"schedule", func(cj *batchv1.CronJob) { cj.Spec.Schedule = "off" },
			`spec.schedule: Invalid value: "off": expected exactly 5 fields, found 1: [off]`},
		{"zone", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Mars/Olympus") },
			`spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus`},
	} {
		bad := cj.DeepCopy()
		bad.Name = "bad-" + tc.name
		tc.mutate(bad)
		_, err := cjs.Create(ctx, bad, metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want 422 with %q", tc.name, err, tc.want)
		}
	}
}
