package printers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func template() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
		Containers:   []corev1.Container{{Name: "app", Image: "kinc/app:1"}, {Name: "proxy", Image: "kinc/proxy:2"}},
	}}
}

func selector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"},
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"fe"}}}}
}

func withOwners(m metav1.ObjectMeta, refs ...metav1.OwnerReference) metav1.ObjectMeta {
	m.OwnerReferences = refs
	return m
}

func TestPrintApps(t *testing.T) {
	tests := []struct {
		name string
		obj  runtime.Object
		want []interface{}
	}{
		{"deployment", &appsv1.Deployment{ObjectMeta: objMeta("web", 7*time.Minute),
			Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](3), Selector: selector(), Template: template()},
			Status: appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}},
			[]interface{}{"web", "2/3", int64(3), int64(2), "7m", "app,proxy", "kinc/app:1,kinc/proxy:2", "app=web,tier in (fe)"}},
		{"deployment without selector or replicas", &appsv1.Deployment{ObjectMeta: objMeta("d", time.Minute)},
			[]interface{}{"d", "0/1", int64(0), int64(0), "60s", "", "", ""}},
		{"deployment with invalid selector", &appsv1.Deployment{ObjectMeta: objMeta("d", time.Minute),
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Bogus"}}}}},
			[]interface{}{"d", "0/0", int64(0), int64(0), "60s", "", "", "<invalid>"}},
		{"replicaset", &appsv1.ReplicaSet{ObjectMeta: objMeta("web-5d4f", 7*time.Minute),
			Spec:   appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](3), Selector: selector(), Template: template()},
			Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1}},
			[]interface{}{"web-5d4f", int64(3), int64(3), int64(1), "7m", "app,proxy", "kinc/app:1,kinc/proxy:2", "app=web,tier in (fe)"}},
		{"replicaset with empty selector", &appsv1.ReplicaSet{ObjectMeta: objMeta("rs", time.Minute),
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{}}},
			[]interface{}{"rs", int64(0), int64(0), int64(0), "60s", "", "", "<none>"}},
		{"daemonset", &appsv1.DaemonSet{ObjectMeta: objMeta("kindnet", 30*time.Hour),
			Spec: appsv1.DaemonSetSpec{Selector: selector(), Template: template()},
			Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2,
				UpdatedNumberScheduled: 3, NumberAvailable: 2}},
			[]interface{}{"kindnet", int64(3), int64(3), int64(2), int64(3), int64(2), "kubernetes.io/os=linux", "30h",
				"app,proxy", "kinc/app:1,kinc/proxy:2", "app=web,tier in (fe)"}},
		{"daemonset without node selector", &appsv1.DaemonSet{ObjectMeta: objMeta("ds", time.Minute)},
			[]interface{}{"ds", int64(0), int64(0), int64(0), int64(0), int64(0), "<none>", "60s", "", "", "<none>"}},
		{"statefulset", &appsv1.StatefulSet{ObjectMeta: objMeta("db", 2*time.Minute),
			Spec:   appsv1.StatefulSetSpec{Replicas: ptr.To[int32](3), Template: template()},
			Status: appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 1}},
			[]interface{}{"db", "1/3", "2m", "app,proxy", "kinc/app:1,kinc/proxy:2"}},
		{"controllerrevision", &appsv1.ControllerRevision{ObjectMeta: withOwners(objMeta("db-7d9f", time.Minute),
			metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "other"},
			metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", Controller: ptr.To(true)}), Revision: 2},
			[]interface{}{"db-7d9f", "statefulset.apps/db", int64(2), "60s"}},
		{"controllerrevision of a core kind", &appsv1.ControllerRevision{ObjectMeta: withOwners(objMeta("x", time.Minute),
			metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "p", Controller: ptr.To(true)})},
			[]interface{}{"x", "pod/p", int64(0), "60s"}},
		{"controllerrevision without controller", &appsv1.ControllerRevision{ObjectMeta: objMeta("y", time.Hour), Revision: 1},
			[]interface{}{"y", "<none>", int64(1), "60m"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, tc.obj, tc.want) })
	}
}

func TestPrintJob(t *testing.T) {
	cond := func(typ batchv1.JobConditionType, s corev1.ConditionStatus) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: typ, Status: s}}
	}
	deleted := metav1.NewTime(now)
	tests := []struct {
		name        string
		completions *int32
		parallelism *int32
		status      batchv1.JobStatus
		deleted     *metav1.Time
		// want holds Status, Completions, Duration.
		want [3]string
	}{
		{"running, not started", ptr.To[int32](3), nil, batchv1.JobStatus{}, nil, [3]string{"Running", "0/3", ""}},
		{"running since", ptr.To[int32](3), nil, batchv1.JobStatus{Succeeded: 1, StartTime: agoPtr(90 * time.Second)}, nil,
			[3]string{"Running", "1/3", "90s"}},
		{"complete", ptr.To[int32](1), nil, batchv1.JobStatus{Succeeded: 1, StartTime: agoPtr(time.Hour), CompletionTime: agoPtr(time.Hour - 25*time.Second),
			Conditions: cond(batchv1.JobComplete, corev1.ConditionTrue)}, nil, [3]string{"Complete", "1/1", "25s"}},
		{"failed", ptr.To[int32](1), nil, batchv1.JobStatus{Conditions: cond(batchv1.JobFailed, corev1.ConditionTrue)}, nil,
			[3]string{"Failed", "0/1", ""}},
		{"terminating", nil, nil, batchv1.JobStatus{}, &deleted, [3]string{"Terminating", "0/1", ""}},
		{"suspended, work queue", nil, ptr.To[int32](4), batchv1.JobStatus{Succeeded: 2, Conditions: cond(batchv1.JobSuspended, corev1.ConditionTrue)}, nil,
			[3]string{"Suspended", "2/1 of 4", ""}},
		{"failure target", nil, ptr.To[int32](1), batchv1.JobStatus{Conditions: cond(batchv1.JobFailureTarget, corev1.ConditionTrue)}, nil,
			[3]string{"FailureTarget", "0/1", ""}},
		{"false condition ignored", ptr.To[int32](2), nil, batchv1.JobStatus{Conditions: cond(batchv1.JobComplete, corev1.ConditionFalse)}, nil,
			[3]string{"Running", "0/2", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := &batchv1.Job{ObjectMeta: objMeta("pi", 2*time.Hour),
				Spec:   batchv1.JobSpec{Completions: tc.completions, Parallelism: tc.parallelism, Selector: selector(), Template: template()},
				Status: tc.status}
			job.DeletionTimestamp = tc.deleted
			checkCells(t, job, []interface{}{"pi", tc.want[0], tc.want[1], tc.want[2], "120m", "app,proxy", "kinc/app:1,kinc/proxy:2", "app=web,tier in (fe)"})
		})
	}
}

func TestPrintCronJob(t *testing.T) {
	cj := &batchv1.CronJob{ObjectMeta: objMeta("hourly", 3*24*time.Hour),
		Spec: batchv1.CronJobSpec{Schedule: "0 * * * *", TimeZone: ptr.To("Etc/UTC"), Suspend: ptr.To(false),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: template()}}},
		Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "hourly-1"}}, LastScheduleTime: agoPtr(17 * time.Minute)}}
	checkCells(t, cj, []interface{}{"hourly", "0 * * * *", "Etc/UTC", "False", int64(1), "17m", "3d", "app,proxy", "kinc/app:1,kinc/proxy:2", "<none>"})

	cj.Spec.TimeZone, cj.Spec.Suspend, cj.Status = nil, nil, batchv1.CronJobStatus{}
	checkCells(t, cj, []interface{}{"hourly", "0 * * * *", "<none>", "<unset>", int64(0), "<none>", "3d", "app,proxy", "kinc/app:1,kinc/proxy:2", "<none>"})
}
