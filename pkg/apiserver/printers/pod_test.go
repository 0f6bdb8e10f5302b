package printers

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func running() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, exitCode, signal int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exitCode, Signal: signal}}
}

func lastTerminated(finished time.Duration) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, FinishedAt: ago(finished)}}
}

func TestPrintPod(t *testing.T) {
	two := []corev1.Container{{Name: "a"}, {Name: "b"}}
	one := []corev1.Container{{Name: "app"}}
	inits := []corev1.Container{{Name: "migrate"}, {Name: "warm"}}
	sidecar := []corev1.Container{{Name: "mesh", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}}
	deleted := metav1.NewTime(now)
	readyCond := []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}

	tests := []struct {
		name string
		spec corev1.PodSpec
		st   corev1.PodStatus
		del  *metav1.Time
		// want holds Ready, Status, Restarts (Name, Age and wide cells are fixed).
		want [3]string
	}{
		{"one of two ready, restarts summed", corev1.PodSpec{Containers: two},
			corev1.PodStatus{Phase: "podPhase", ContainerStatuses: []corev1.ContainerStatus{
				{Ready: true, RestartCount: 3, State: running()}, {RestartCount: 3}}},
			nil, [3]string{"1/2", "podPhase", "6"}},
		{"waiting reason wins", corev1.PodSpec{Containers: two},
			corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{
				{Ready: true, State: waiting("ContainerCreating")}, {State: waiting("ContainerCreating")}}},
			nil, [3]string{"0/2", "ContainerCreating", "0"}},
		{"crashloop with restart time", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
				{RestartCount: 5, State: waiting("CrashLoopBackOff"), LastTerminationState: lastTerminated(90 * time.Second)}}},
			nil, [3]string{"0/1", "CrashLoopBackOff", "5 (90s ago)"}},
		{"latest termination of all containers", corev1.PodSpec{Containers: two},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
				{Ready: true, RestartCount: 1, State: running(), LastTerminationState: lastTerminated(3 * time.Hour)},
				{Ready: true, RestartCount: 2, State: running(), LastTerminationState: lastTerminated(5 * time.Minute)}}},
			nil, [3]string{"2/2", "Running", "3 (5m ago)"}},
		{"terminated reason", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{State: terminated("OOMKilled", 137, 0)}}},
			nil, [3]string{"0/1", "OOMKilled", "0"}},
		{"terminated exit code", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{State: terminated("", 3, 0)}}},
			nil, [3]string{"0/1", "ExitCode:3", "0"}},
		{"terminated signal", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{State: terminated("", 137, 9)}}},
			nil, [3]string{"0/1", "Signal:9", "0"}},
		{"completed", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{State: terminated("Completed", 0, 0)}}},
			nil, [3]string{"0/1", "Completed", "0"}},
		{"completed container but another running and pod ready", corev1.PodSpec{Containers: two},
			corev1.PodStatus{Phase: corev1.PodRunning, Conditions: readyCond, ContainerStatuses: []corev1.ContainerStatus{
				{State: terminated("Completed", 0, 0)}, {Ready: true, State: running()}}},
			nil, [3]string{"1/2", "Running", "0"}},
		{"completed container but another running and pod not ready", corev1.PodSpec{Containers: two},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
				{State: terminated("Completed", 0, 0)}, {Ready: true, State: running()}}},
			nil, [3]string{"1/2", "NotReady", "0"}},
		{"status reason overrides phase", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"},
			nil, [3]string{"0/1", "Evicted", "0"}},
		{"scheduling gated", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated}}},
			nil, [3]string{"0/1", "SchedulingGated", "0"}},
		{"init container running", corev1.PodSpec{InitContainers: inits, Containers: one},
			corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", State: running()}, {Name: "warm", State: waiting("PodInitializing")}},
				ContainerStatuses:     []corev1.ContainerStatus{{State: waiting("PodInitializing")}}},
			nil, [3]string{"0/1", "Init:0/2", "0"}},
		{"second init container running", corev1.PodSpec{InitContainers: inits, Containers: one},
			corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", State: terminated("Completed", 0, 0)}, {Name: "warm", State: running()}}},
			nil, [3]string{"0/1", "Init:1/2", "0"}},
		{"init container crashlooping", corev1.PodSpec{InitContainers: inits, Containers: one},
			corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", RestartCount: 2, State: waiting("CrashLoopBackOff"), LastTerminationState: lastTerminated(26 * time.Second)}},
				ContainerStatuses:     []corev1.ContainerStatus{{RestartCount: 7, State: waiting("PodInitializing")}}},
			nil, [3]string{"0/1", "Init:CrashLoopBackOff", "2 (26s ago)"}},
		{"init container failed with reason", corev1.PodSpec{InitContainers: inits, Containers: one},
			corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", State: terminated("Error", 1, 0)}}},
			nil, [3]string{"0/1", "Init:Error", "0"}},
		{"init container failed with exit code", corev1.PodSpec{InitContainers: inits, Containers: one},
			corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", State: terminated("", 2, 0)}}},
			nil, [3]string{"0/1", "Init:ExitCode:2", "0"}},
		{"init container killed by signal", corev1.PodSpec{InitContainers: inits, Containers: one},
			corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{{Name: "migrate", State: terminated("", 137, 9)}}},
			nil, [3]string{"0/1", "Init:Signal:9", "0"}},
		{"sidecar counts as a container", corev1.PodSpec{InitContainers: sidecar, Containers: one},
			corev1.PodStatus{Phase: corev1.PodRunning,
				Conditions:            []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}},
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "mesh", Started: ptr.To(true), Ready: true, RestartCount: 1, State: running()}},
				ContainerStatuses:     []corev1.ContainerStatus{{Ready: true, State: running()}}},
			nil, [3]string{"2/2", "Running", "1"}},
		{"sidecar not started yet", corev1.PodSpec{InitContainers: sidecar, Containers: one},
			corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{{Name: "mesh", Started: ptr.To(false), State: running()}},
				ContainerStatuses:     []corev1.ContainerStatus{{State: waiting("PodInitializing")}}},
			nil, [3]string{"0/2", "Init:0/1", "0"}},
		{"terminating", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: running()}}},
			&deleted, [3]string{"1/1", "Terminating", "0"}},
		{"deleted but already succeeded", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{{State: terminated("Completed", 0, 0)}}},
			&deleted, [3]string{"0/1", "Completed", "0"}},
		{"node lost", corev1.PodSpec{Containers: one},
			corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost", ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: running()}}},
			&deleted, [3]string{"1/1", "Unknown", "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: objMeta("web", 13*time.Minute), Spec: tc.spec, Status: tc.st}
			pod.DeletionTimestamp = tc.del
			checkCells(t, pod, []interface{}{"web", tc.want[0], tc.want[1], tc.want[2], "13m", "<none>", "<none>", "<none>", "<none>"})
		})
	}
}

func TestPrintPodWideCells(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: objMeta("web", 49*time.Hour),
		Spec: corev1.PodSpec{
			NodeName:       "kinc-worker",
			Containers:     []corev1.Container{{Name: "app"}},
			ReadinessGates: []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"}},
		},
		Status: corev1.PodStatus{
			Phase:             corev1.PodRunning,
			PodIP:             "10.244.1.5",
			PodIPs:            []corev1.PodIP{{IP: "10.244.1.5"}, {IP: "fd00::5"}},
			NominatedNodeName: "kinc-worker2",
			Conditions: []corev1.PodCondition{
				{Type: "example.com/lb", Status: corev1.ConditionTrue},
				{Type: "example.com/dns", Status: corev1.ConditionFalse},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Ready: true, State: running()}},
		},
	}
	checkCells(t, pod, []interface{}{"web", "1/1", "Running", "0", "2d1h", "10.244.1.5", "kinc-worker", "kinc-worker2", "1/2"})

	// Only status.podIP set: upstream's conversion fills podIPs from it.
	pod.Status.PodIPs = nil
	if got := convert(t, pod).Rows[0].Cells[5]; got != "10.244.1.5" {
		t.Errorf("IP cell = %v, want 10.244.1.5", got)
	}
}

func TestPrintPodRowConditions(t *testing.T) {
	for phase, want := range map[corev1.PodPhase][]metav1.TableRowCondition{
		corev1.PodRunning:   nil,
		corev1.PodSucceeded: {{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Succeeded", Message: "The pod has completed successfully."}},
		corev1.PodFailed:    {{Type: metav1.RowCompleted, Status: metav1.ConditionTrue, Reason: "Failed", Message: "The pod failed."}},
	} {
		pod := &corev1.Pod{ObjectMeta: objMeta("p", time.Minute), Status: corev1.PodStatus{Phase: phase}}
		if got := convert(t, pod).Rows[0].Conditions; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: conditions = %#v, want %#v", phase, got, want)
		}
	}
}
