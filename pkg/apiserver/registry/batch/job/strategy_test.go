package job

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newJob() *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default", UID: "0000-1111"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "pi", Image: "perl:5.34"}},
		}}},
	}
}

func created(t *testing.T, mutate func(*batchv1.Job)) (*batchv1.Job, field.ErrorList) {
	t.Helper()
	job := newJob()
	if mutate != nil {
		mutate(job)
	}
	s := NewStrategy()
	s.PrepareForCreate(context.Background(), job)
	return job, s.Validate(context.Background(), job)
}

func TestDefaultsAndSelector(t *testing.T) {
	job, errs := created(t, nil)
	Expect(t, errs)
	s := job.Spec
	if *s.Completions != 1 || *s.Parallelism != 1 || *s.BackoffLimit != 6 || *s.CompletionMode != batchv1.NonIndexedCompletion ||
		*s.Suspend || *s.PodReplacementPolicy != batchv1.TerminatingOrFailed || *s.ManualSelector || job.Generation != 1 {
		t.Errorf("defaults: %+v", s)
	}
	wantLabels := map[string]string{
		"batch.kubernetes.io/controller-uid": "0000-1111", "controller-uid": "0000-1111",
		"batch.kubernetes.io/job-name": "pi", "job-name": "pi",
	}
	if d := cmp.Diff(wantLabels, s.Template.Labels); d != "" {
		t.Errorf("template labels (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"batch.kubernetes.io/controller-uid": "0000-1111"}, s.Selector.MatchLabels); d != "" {
		t.Errorf("selector: %s", d)
	}
	if len(job.Labels) != 0 {
		t.Errorf("job labels %v (template had none before generation)", job.Labels)
	}

	withLabels, _ := created(t, func(j *batchv1.Job) { j.Spec.Template.Labels = map[string]string{"app": "pi"} })
	if withLabels.Labels["app"] != "pi" || len(withLabels.Labels) != 1 {
		t.Errorf("job labels from template: %v", withLabels.Labels)
	}
	indexed, _ := created(t, func(j *batchv1.Job) {
		j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
		j.Spec.Completions = ptr.To[int32](3)
	})
	if *indexed.Spec.BackoffLimit != 2147483647 || *indexed.Spec.Parallelism != 1 {
		t.Errorf("backoffLimit with per-index limit: %d", *indexed.Spec.BackoffLimit)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*batchv1.Job)
		want   []Err
	}{
		{"restartPolicy Always", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			[]Err{E(field.ErrorTypeRequired, "spec.template.spec.restartPolicy")}},
		{"restartPolicy defaulted to Always", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" },
			[]Err{E(field.ErrorTypeRequired, "spec.template.spec.restartPolicy")}},
		{"restartPolicy unknown", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "Sometimes" },
			[]Err{E(field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"), E(field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy")}},
		{"OnFailure", func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }, nil},
		{"negative parallelism", func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](-1) }, []Err{E(field.ErrorTypeInvalid, "spec.parallelism")}},
		{"conflicting job-name label", func(j *batchv1.Job) { j.Spec.Template.Labels = map[string]string{"job-name": "other"} },
			[]Err{E(field.ErrorTypeInvalid, "spec.template.metadata.labels[job-name]")}},
		{"indexed needs completions", func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
			j.Spec.Parallelism = ptr.To[int32](2)
		}, []Err{E(field.ErrorTypeRequired, "spec.completions")}},
		{"manual selector must match", func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.template.metadata.labels")}},
		{"manual selector", func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
			j.Spec.Template.Labels = map[string]string{"app": "pi"}
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := created(t, tc.mutate)
			Expect(t, errs, tc.want...)
		})
	}
}

func TestUpdate(t *testing.T) {
	old, _ := created(t, nil)
	s := NewStrategy()

	bumped := old.DeepCopy()
	bumped.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
	s.PrepareForUpdate(context.Background(), bumped, old)
	Expect(t, s.ValidateUpdate(context.Background(), bumped, old))
	if bumped.Generation != 2 {
		t.Errorf("generation %d", bumped.Generation)
	}

	tmpl := old.DeepCopy()
	tmpl.Spec.Template.Spec.Containers[0].Image = "perl:5.36"
	tmpl.Spec.Completions = ptr.To[int32](2)
	s.PrepareForUpdate(context.Background(), tmpl, old)
	Expect(t, s.ValidateUpdate(context.Background(), tmpl, old),
		E(field.ErrorTypeInvalid, "spec.template"), E(field.ErrorTypeInvalid, "spec.completions"))

	suspended := old.DeepCopy()
	suspended.Spec.Suspend = ptr.To(true)
	old2 := suspended.DeepCopy()
	suspended.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
	s.PrepareForUpdate(context.Background(), suspended, old2)
	Expect(t, s.ValidateUpdate(context.Background(), suspended, old2))

	st := old.DeepCopy()
	st.Spec.Parallelism = ptr.To[int32](9)
	st.Status.Succeeded = 1
	NewStatusStrategy().PrepareForUpdate(context.Background(), st, old)
	if *st.Spec.Parallelism != 1 {
		t.Error("status update changed spec")
	}
	_, f, _ := GetAttrs(st)
	if f["status.successful"] != "1" {
		t.Errorf("fields %v", f)
	}
}

// TestOrphansByDefault: batch/v1 jobs orphan their pods when deleted
// without a propagation policy, as upstream.
func TestOrphansByDefault(t *testing.T) {
	gc, ok := NewStrategy().(generic.GarbageCollector)
	if !ok || gc.DefaultGarbageCollectionPolicy() != generic.OrphanDependents {
		t.Errorf("jobs' strategy: default garbage collection policy (%v), want OrphanDependents", ok)
	}
}
