package job

import (
	"math"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
)

// Template labels of the generated selector: the current ones and the
// unprefixed ones upstream still sets for compatibility.
const (
	legacyControllerUIDLabel = "controller-uid"
	legacyJobNameLabel       = "job-name"
)

// SetDefaults applies SetDefaults_Job and the pod template defaults. The
// job's own labels default to the template's when it has none.
func SetDefaults(job *batchv1.Job) {
	spec := &job.Spec
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions = ptr.To[int32](1)
	}
	if spec.Parallelism == nil {
		spec.Parallelism = ptr.To[int32](1)
	}
	if spec.BackoffLimit == nil {
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptr.To[int32](math.MaxInt32)
		} else {
			spec.BackoffLimit = ptr.To[int32](6)
		}
	}
	if spec.Template.Labels != nil && len(job.Labels) == 0 {
		job.Labels = make(map[string]string, len(spec.Template.Labels))
		for k, v := range spec.Template.Labels {
			job.Labels[k] = v
		}
	}
	if spec.CompletionMode == nil {
		spec.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	defaultPodFailurePolicy(spec.PodFailurePolicy)
	if spec.PodReplacementPolicy == nil {
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = ptr.To(batchv1.Failed)
		} else {
			spec.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		}
	}
	if spec.ManualSelector == nil {
		spec.ManualSelector = ptr.To(false)
	}
	podspec.SetDefaultsPodTemplateSpec(&spec.Template)
}

// SetTemplateDefaults applies to the spec of a CronJob's job template the
// defaults upstream gives it: the pod failure policy's condition status and
// the pod template's, not a Job's own (completions, parallelism, … stay
// unset until a Job is made from the template).
func SetTemplateDefaults(spec *batchv1.JobSpec) {
	defaultPodFailurePolicy(spec.PodFailurePolicy)
	podspec.SetDefaultsPodTemplateSpec(&spec.Template)
}

// defaultPodFailurePolicy sets the status of onPodConditions patterns to
// True when unset.
func defaultPodFailurePolicy(pfp *batchv1.PodFailurePolicy) {
	if pfp == nil {
		return
	}
	for i := range pfp.Rules {
		for j := range pfp.Rules[i].OnPodConditions {
			if c := &pfp.Rules[i].OnPodConditions[j]; c.Status == "" {
				c.Status = corev1.ConditionTrue
			}
		}
	}
}

// generateSelector adds the controller-uid and job-name labels (both
// spellings) to the template unless present, and selects on
// batch.kubernetes.io/controller-uid, as upstream's job strategy does for
// jobs without manualSelector. Conflicting user values are left for
// validation to reject.
func generateSelector(job *batchv1.Job) {
	t := &job.Spec.Template
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	for _, k := range []string{legacyJobNameLabel, batchv1.JobNameLabel} {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = job.Name
		}
	}
	for _, k := range []string{legacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = string(job.UID)
		}
	}
	if job.Spec.Selector == nil {
		job.Spec.Selector = &metav1.LabelSelector{}
	}
	if job.Spec.Selector.MatchLabels == nil {
		job.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !ok {
		job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(job.UID)
	}
}
