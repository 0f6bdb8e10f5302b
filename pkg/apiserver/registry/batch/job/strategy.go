package job

import (
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

func rules() generic.Rules[*batchv1.Job] {
	return generic.Rules[*batchv1.Job]{
		Default: SetDefaults,
		// The selector is generated unless manualSelector is true.
		AfterCreateDefault: func(job *batchv1.Job) {
			if !*job.Spec.ManualSelector {
				generateSelector(job)
			}
		},
		Validate:       validateJob,
		ValidateUpdate: validateSpecUpdate,
		SpecStatus:     true,
		ValidateStatus: validateStatus,
		// batch/v1 orphans a job's pods when deleted without a
		// propagation policy, as upstream (for compatibility).
		GarbageCollection: generic.OrphanDependents,
	}
}

// NewStrategy returns the strategy for writes to jobs. PrepareForCreate
// needs metadata.name and metadata.uid already set (the generated selector
// is built from them). ValidateUpdate checks the immutable fields:
// selector, completionMode, completions (except for elastic Indexed jobs)
// and the pod template (except scheduling directives, labels and
// annotations of a suspended job that never started).
func NewStrategy() registry.Strategy { return rules().Strategy() }

// NewStatusStrategy returns the strategy for jobs/status: spec and
// generation are kept.
func NewStatusStrategy() registry.Strategy { return rules().StatusStrategy() }

func validateStatus(job, _ *batchv1.Job) field.ErrorList {
	s, p := &job.Status, field.NewPath("status")
	var errs field.ErrorList
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(s.Active), p.Child("active"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(s.Succeeded), p.Child("succeeded"))...)
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(s.Failed), p.Child("failed"))...)
	if s.Ready != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*s.Ready), p.Child("ready"))...)
	}
	return errs
}

// GetAttrs returns a job's labels and fields metadata.name,
// metadata.namespace and status.successful.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	job, err := regutil.AttrsOf[*batchv1.Job](obj)
	if err != nil {
		return nil, nil, err
	}
	return labels.Set(job.Labels), regutil.MetaFields(&job.ObjectMeta, true, fields.Set{
		"status.successful": strconv.Itoa(int(job.Status.Succeeded)),
	}), nil
}

func validateSpecUpdate(job, oldJob *batchv1.Job) field.ErrorList {
	p := field.NewPath("spec")
	spec, old := &job.Spec, &oldJob.Spec
	errs := apimachineryvalidation.ValidateImmutableField(spec.Selector, old.Selector, p.Child("selector"))
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(spec.CompletionMode, old.CompletionMode, p.Child("completionMode"))...)
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(spec.BackoffLimitPerIndex, old.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))...)
	elastic := spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion &&
		spec.Completions != nil && spec.Parallelism != nil && *spec.Completions == *spec.Parallelism &&
		old.Completions != nil && old.Parallelism != nil && *old.Completions == *old.Parallelism
	if !elastic {
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(spec.Completions, old.Completions, p.Child("completions"))...)
	}
	template := spec.Template
	if spec.Suspend != nil && *spec.Suspend && oldJob.Status.StartTime == nil {
		// Scheduling directives, labels and annotations of a job that never
		// ran may change (JobMutableNodeSchedulingDirectives).
		template = *spec.Template.DeepCopy()
		template.Labels, template.Annotations = old.Template.Labels, old.Template.Annotations
		template.Spec.NodeSelector, template.Spec.Tolerations = old.Template.Spec.NodeSelector, old.Template.Spec.Tolerations
		template.Spec.SchedulingGates = old.Template.Spec.SchedulingGates
		nodeAffinity(&template.Spec, old.Template.Spec.Affinity)
	}
	return append(errs, apimachineryvalidation.ValidateImmutableField(template, old.Template, p.Child("template"))...)
}

// nodeAffinity replaces spec's node affinity with old's, keeping the rest.
func nodeAffinity(spec *corev1.PodSpec, old *corev1.Affinity) {
	var oldNA *corev1.NodeAffinity
	if old != nil {
		oldNA = old.NodeAffinity
	}
	if spec.Affinity == nil {
		if oldNA != nil {
			spec.Affinity = &corev1.Affinity{NodeAffinity: oldNA}
		}
		return
	}
	spec.Affinity.NodeAffinity = oldNA
	if old == nil && spec.Affinity.PodAffinity == nil && spec.Affinity.PodAntiAffinity == nil {
		spec.Affinity = nil
	}
}

var _ registry.AttrFunc = GetAttrs
