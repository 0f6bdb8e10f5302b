package kuberuntime

import (
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// debugPod is a running pod with one container ("app") to which an
// ephemeral container "debugger" targeting app has been added.
func debugPod(t *testing.T, f *fixture) *v1.Pod {
	t.Helper()
	pod := newPod("web", v1.Container{Name: "app", Args: []string{"sleep", "inf"}})
	if st := f.sync(pod); st.Phase != v1.PodRunning || len(st.EphemeralContainerStatuses) != 0 {
		t.Fatalf("status before debug = %+v", st)
	}
	pod.Spec.EphemeralContainers = []v1.EphemeralContainer{{TargetContainerName: "app",
		EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debugger", Image: img, ImagePullPolicy: v1.PullIfNotPresent,
			Command: []string{"/testbin", "cat"}, Stdin: true, StdinOnce: true, TTY: true,
			TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: v1.TerminationMessageReadFile}}}
	return pod
}

func countCalls(f *fixture, name string) int {
	n := 0
	for _, c := range f.runtime.CallsSnapshot() {
		if c == name {
			n++
		}
	}
	return n
}

func TestEphemeralContainerStartsOnceInTargetPIDNamespace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := debugPod(t, f)
	sandboxes := countCalls(f, "RunPodSandbox")
	st := f.sync(pod)
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	app, dbg := state.Latest("app", ""), state.Latest("debugger", "")
	if dbg == nil || !running(dbg) {
		t.Fatalf("debugger container = %v", dbg)
	}
	if dbg.Labels[sandboxLabel] != state.Newest().Id || countCalls(f, "RunPodSandbox") != sandboxes {
		t.Errorf("debugger not in the pod's existing sandbox")
	}
	cfg := f.runtime.ContainerConfig(dbg.Id)
	ns := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
	if ns.Pid != runtimeapi.NamespaceMode_TARGET || ns.TargetId != app.Id || ns.Network != runtimeapi.NamespaceMode_POD {
		t.Errorf("namespace options = %v, want PID TARGET %s", ns, app.Id)
	}
	if !cfg.Stdin || !cfg.StdinOnce || !cfg.Tty || cfg.Metadata.Attempt != 0 {
		t.Errorf("config = %v", cfg)
	}
	if cfg.Labels[LabelContainerName] != "debugger" || cfg.Labels[LabelPodUID] != string(pod.UID) || cfg.Annotations[annotationContainerHash] == "" {
		t.Errorf("labels %v annotations %v", cfg.Labels, cfg.Annotations)
	}
	if f.runtime.ContainerConfig(app.Id).GetLinux().GetSecurityContext().GetNamespaceOptions().Pid != runtimeapi.NamespaceMode_CONTAINER {
		t.Errorf("the target's own PID namespace changed")
	}
	if len(st.EphemeralContainerStatuses) != 1 {
		t.Fatalf("ephemeral statuses = %+v", st.EphemeralContainerStatuses)
	}
	es := st.EphemeralContainerStatuses[0]
	if es.Name != "debugger" || es.State.Running == nil || es.ContainerID != "containerd://"+dbg.Id || es.ImageID == "" ||
		es.Image != img || es.Ready || es.Started != nil || es.RestartCount != 0 {
		t.Errorf("running ephemeral status = %+v", es)
	}
	if st.Phase != v1.PodRunning || len(st.ContainerStatuses) != 1 || !st.ContainerStatuses[0].Ready {
		t.Errorf("pod status = %+v", st)
	}

	// It exits: terminated with its exit code, never restarted, the pod untouched.
	f.runtime.Exit(dbg.Id, 3)
	creates := countCalls(f, "CreateContainer")
	for range 5 {
		f.clock.Step(time.Minute)
		st = f.sync(pod)
	}
	if n := countCalls(f, "CreateContainer"); n != creates {
		t.Errorf("%d containers created after the ephemeral container exited", n-creates)
	}
	es = st.EphemeralContainerStatuses[0]
	if term := es.State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" || term.ContainerID != "containerd://"+dbg.Id || es.RestartCount != 0 {
		t.Errorf("exited ephemeral status = %+v", es)
	}
	if st.Phase != v1.PodRunning || !st.ContainerStatuses[0].Ready {
		t.Errorf("pod status after the ephemeral container exited = %+v", st)
	}

	// A restarted kubelet finds it again by its labels and does not start it.
	f.m = f.manager()
	st = f.sync(pod)
	if n := countCalls(f, "CreateContainer"); n != creates || st.EphemeralContainerStatuses[0].State.Terminated == nil {
		t.Errorf("after a kubelet restart: %d creates, status %+v", n-creates, st.EphemeralContainerStatuses)
	}

	// Killing the pod kills and removes it too.
	if err := f.m.KillPod(f.ctx, pod, nil); err != nil {
		t.Fatal(err)
	}
	if state, _ := f.m.GetPodState(f.ctx, pod.UID); len(state.Containers) != 0 {
		t.Errorf("containers left after KillPod: %v", state.Containers)
	}
}

func TestEphemeralContainerKilledWithPod(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := debugPod(t, f)
	f.sync(pod)
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	if !running(state.Latest("debugger", "")) {
		t.Fatal("debugger not running")
	}
	stops := countCalls(f, "StopContainer")
	if err := f.m.KillPod(f.ctx, pod, nil); err != nil {
		t.Fatal(err)
	}
	if n := countCalls(f, "StopContainer") - stops; n != 2 {
		t.Errorf("%d containers stopped, want app and debugger", n)
	}
	if state, _ := f.m.GetPodState(f.ctx, pod.UID); len(state.Containers) != 0 || len(state.Sandboxes) != 0 {
		t.Errorf("left after KillPod: %v %v", state.Containers, state.Sandboxes)
	}
}

func TestEphemeralContainerTargetMissing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := debugPod(t, f)
	pod.Spec.EphemeralContainers[0].TargetContainerName = "nope"
	creates := countCalls(f, "CreateContainer")
	st := f.sync(pod)
	w := st.EphemeralContainerStatuses[0].State.Waiting
	if w == nil || w.Reason != "CreateContainerConfigError" || w.Message != "unable to find target container nope" {
		t.Errorf("status = %+v", st.EphemeralContainerStatuses[0])
	}
	if countCalls(f, "CreateContainer") != creates || st.Phase != v1.PodRunning {
		t.Errorf("container created or pod changed: %+v", st)
	}
	// Retried on the next sync: here the spec names the right target now
	// (the API would not allow that edit; the retry is what matters).
	pod.Spec.EphemeralContainers[0].TargetContainerName = "app"
	if st = f.sync(pod); st.EphemeralContainerStatuses[0].State.Running == nil {
		t.Errorf("status after the retry = %+v", st.EphemeralContainerStatuses[0])
	}
}

func TestEphemeralContainerNamespacesAndImage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := debugPod(t, f)
	pod.Spec.ShareProcessNamespace = ptr(true)
	pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, v1.EphemeralContainer{
		EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "a-untargeted", Image: "example.test/debug:1", ImagePullPolicy: v1.PullAlways}})
	pulls := countCalls(f, "PullImage")
	st := f.sync(pod)
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	for _, name := range []string{"debugger", "a-untargeted"} {
		cs := state.Latest(name, "")
		if cs == nil {
			t.Fatalf("%s not created; status %+v", name, st.EphemeralContainerStatuses)
		}
		// A pod sharing its process namespace keeps it (upstream: TARGET only replaces CONTAINER).
		if ns := f.runtime.ContainerConfig(cs.Id).GetLinux().GetSecurityContext().GetNamespaceOptions(); ns.Pid != runtimeapi.NamespaceMode_POD || ns.TargetId != "" {
			t.Errorf("%s namespace options = %v", name, ns)
		}
	}
	if countCalls(f, "PullImage") != pulls+1 {
		t.Errorf("imagePullPolicy Always did not pull")
	}
	if len(st.EphemeralContainerStatuses) != 2 || st.EphemeralContainerStatuses[0].Name != "a-untargeted" || st.EphemeralContainerStatuses[1].Name != "debugger" {
		t.Errorf("statuses not sorted by name: %+v", st.EphemeralContainerStatuses)
	}
}

func TestEphemeralContainerWithoutTargetOwnPIDNamespace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := debugPod(t, f)
	pod.Spec.EphemeralContainers[0].TargetContainerName = ""
	f.sync(pod)
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	ns := f.runtime.ContainerConfig(state.Latest("debugger", "").Id).GetLinux().GetSecurityContext().GetNamespaceOptions()
	if ns.Pid != runtimeapi.NamespaceMode_CONTAINER || ns.TargetId != "" {
		t.Errorf("namespace options = %v", ns)
	}
}

func TestEphemeralContainerStartsWhileInitializing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := newPod("init", v1.Container{Name: "main"})
	pod.Spec.InitContainers = []v1.Container{{Name: "stuck", Image: img}}
	if st := f.sync(pod); st.InitContainerStatuses[0].State.Running == nil {
		t.Fatalf("init container not running: %+v", st)
	}
	pod.Spec.EphemeralContainers = []v1.EphemeralContainer{{TargetContainerName: "stuck",
		EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debugger", Image: img}}}
	st := f.sync(pod)
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	dbg := state.Latest("debugger", "")
	if dbg == nil || !running(dbg) || st.EphemeralContainerStatuses[0].State.Running == nil {
		t.Fatalf("debugger of an initializing pod: %+v", st.EphemeralContainerStatuses)
	}
	if ns := f.runtime.ContainerConfig(dbg.Id).GetLinux().GetSecurityContext().GetNamespaceOptions(); ns.TargetId != state.Latest("stuck", "").Id {
		t.Errorf("namespace options = %v", ns)
	}
	if st.Phase != v1.PodPending || st.ContainerStatuses[0].State.Waiting == nil || state.Latest("main", "") != nil {
		t.Errorf("pod status = %+v", st)
	}
}
