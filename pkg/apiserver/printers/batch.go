package printers

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

func jobColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Status", "string", "Status of the job."),
		col("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
		col("Duration", "string", "Time required to complete the job."),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wideCol("Selector", "string", batchv1.JobSpec{}.SwaggerDoc()["selector"]),
	}
}

// printJob: COMPLETIONS is "succeeded/completions" ("succeeded/1 of P" for
// work-queue jobs with parallelism P > 1); DURATION runs from start to completion
// (or now); STATUS is upstream's precedence of job conditions.
func printJob(job *batchv1.Job, e *env) metav1.TableRow {
	var completions string
	if job.Spec.Completions != nil {
		completions = fmt.Sprintf("%d/%d", job.Status.Succeeded, *job.Spec.Completions)
	} else {
		parallelism := int32(0)
		if job.Spec.Parallelism != nil {
			parallelism = *job.Spec.Parallelism
		}
		if parallelism > 1 {
			completions = fmt.Sprintf("%d/1 of %d", job.Status.Succeeded, parallelism)
		} else {
			completions = fmt.Sprintf("%d/1", job.Status.Succeeded)
		}
	}

	var jobDuration string
	switch {
	case job.Status.StartTime == nil:
	case job.Status.CompletionTime == nil:
		jobDuration = duration.HumanDuration(e.now.Sub(job.Status.StartTime.Time))
	default:
		jobDuration = duration.HumanDuration(job.Status.CompletionTime.Sub(job.Status.StartTime.Time))
	}

	var status string
	switch {
	case hasJobCondition(job.Status.Conditions, batchv1.JobComplete):
		status = "Complete"
	case hasJobCondition(job.Status.Conditions, batchv1.JobFailed):
		status = "Failed"
	case job.DeletionTimestamp != nil:
		status = "Terminating"
	case hasJobCondition(job.Status.Conditions, batchv1.JobSuspended):
		status = "Suspended"
	case hasJobCondition(job.Status.Conditions, batchv1.JobFailureTarget):
		status = "FailureTarget"
	default:
		status = "Running"
	}

	names, images := layoutContainerCells(job.Spec.Template.Spec.Containers)
	return metav1.TableRow{Cells: []interface{}{
		job.Name, status, completions, jobDuration, e.since(job.CreationTimestamp),
		names, images, metav1.FormatLabelSelector(job.Spec.Selector),
	}}
}

// hasJobCondition reports whether the first condition of type t is True.
func hasJobCondition(conditions []batchv1.JobCondition, t batchv1.JobConditionType) bool {
	for _, c := range conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func cronJobColumns() []metav1.TableColumnDefinition {
	spec := batchv1beta1.CronJobSpec{}.SwaggerDoc()
	status := batchv1beta1.CronJobStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		col("Schedule", "string", spec["schedule"]),
		col("Timezone", "string", spec["timeZone"]),
		col("Suspend", "boolean", spec["suspend"]),
		col("Active", "integer", status["active"]),
		col("Last Schedule", "string", status["lastScheduleTime"]),
		ageColumn(),
		containersColumn(),
		imagesColumn(),
		wideCol("Selector", "string", batchv1.JobSpec{}.SwaggerDoc()["selector"]),
	}
}

func printCronJob(cj *batchv1.CronJob, e *env) metav1.TableRow {
	lastSchedule := "<none>"
	if cj.Status.LastScheduleTime != nil {
		lastSchedule = e.since(*cj.Status.LastScheduleTime)
	}
	timeZone := "<none>"
	if cj.Spec.TimeZone != nil {
		timeZone = *cj.Spec.TimeZone
	}
	tmpl := &cj.Spec.JobTemplate.Spec
	names, images := layoutContainerCells(tmpl.Template.Spec.Containers)
	return metav1.TableRow{Cells: []interface{}{
		cj.Name, cj.Spec.Schedule, timeZone, printBoolPtr(cj.Spec.Suspend), int64(len(cj.Status.Active)),
		lastSchedule, e.since(cj.CreationTimestamp),
		names, images, metav1.FormatLabelSelector(tmpl.Selector),
	}}
}
