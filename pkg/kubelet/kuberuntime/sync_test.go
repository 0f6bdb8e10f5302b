package kuberuntime

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

const img = "kinc.local/testbin:test"

type fakeObjects struct {
	configMaps map[string]*v1.ConfigMap
	secrets    map[string]*v1.Secret
	services   []v1.Service
}

func (f *fakeObjects) ListServices(_ context.Context, ns string) ([]v1.Service, error) {
	var out []v1.Service
	for _, s := range f.services {
		if s.Namespace == ns {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeObjects) GetConfigMap(_ context.Context, ns, name string) (*v1.ConfigMap, error) {
	if cm, ok := f.configMaps[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "configmaps"}, name)
}

func (f *fakeObjects) GetSecret(_ context.Context, ns, name string) (*v1.Secret, error) {
	if s, ok := f.secrets[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

func (f *fakeObjects) CreateToken(_ context.Context, _, _ string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	req.Status.Token = "token-for-" + req.Spec.BoundObjectRef.Name
	return req, nil
}

type fixture struct {
	t       *testing.T
	ctx     context.Context
	clock   *clocktesting.FakeClock
	runtime *cri.Fake
	objects *fakeObjects
	m       *Manager
	root    string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), clock: clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		runtime: cri.NewFake(img), root: t.TempDir(),
		objects: &fakeObjects{configMaps: map[string]*v1.ConfigMap{}, secrets: map[string]*v1.Secret{}}}
	f.runtime.Now = f.clock.Now
	resolv := filepath.Join(f.root, "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver 192.0.2.53\nsearch example.org\n"), 0o644)
	f.m = f.manager()
	_ = resolv
	return f
}

func (f *fixture) manager() *Manager {
	return NewManager(Config{NodeName: "node-a", NodeIPs: func() []string { return []string{"192.0.2.10"} },
		RootDir: filepath.Join(f.root, "kubelet"), PodLogsDir: filepath.Join(f.root, "pods"), ClusterDNS: []string{"10.96.0.10"},
		ClusterDomain: "cluster.local", ResolvConf: filepath.Join(f.root, "resolv.conf"), CgroupDriver: "cgroupfs", CgroupRoot: "/",
		OOMScoreAdjFloor: 0, NodeMemoryBytes: 8 << 30}, f.runtime, f.objects, f.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func (f *fixture) sync(pod *v1.Pod) v1.PodStatus {
	f.t.Helper()
	_ = f.m.SyncPod(f.ctx, pod)
	state, err := f.m.GetPodState(f.ctx, pod.UID)
	if err != nil {
		f.t.Fatal(err)
	}
	st := f.m.PodStatus(pod, state)
	pod.Status = st
	return st
}

func newPod(name string, containers ...v1.Container) *v1.Pod {
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)},
		Spec: v1.PodSpec{NodeName: "node-a", RestartPolicy: v1.RestartPolicyAlways, Containers: containers}}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Image == "" {
			pod.Spec.Containers[i].Image = img
		}
		if pod.Spec.Containers[i].ImagePullPolicy == "" {
			pod.Spec.Containers[i].ImagePullPolicy = v1.PullIfNotPresent
		}
	}
	return pod
}

func (f *fixture) exitAll(pod *v1.Pod, code int32) {
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	for _, c := range state.Containers {
		f.runtime.Exit(c.Id, code)
	}
}

func TestSyncPodStartsSandboxAndContainers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.objects.configMaps["default/cfg"] = &v1.ConfigMap{Data: map[string]string{"greeting": "hello", "file.txt": "content"}}
	f.objects.secrets["default/sec"] = &v1.Secret{Data: map[string][]byte{"password": []byte("s3cret")}}
	pod := newPod("web", v1.Container{Name: "app",
		Command: []string{"/testbin"}, Args: []string{"echo", "$(GREETING)", "$(MISSING)"},
		Ports: []v1.ContainerPort{{ContainerPort: 80, HostPort: 8080, Protocol: v1.ProtocolTCP}},
		Env: []v1.EnvVar{
			{Name: "GREETING", ValueFrom: &v1.EnvVarSource{ConfigMapKeyRef: &v1.ConfigMapKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}},
			{Name: "PASSWORD", ValueFrom: &v1.EnvVarSource{SecretKeyRef: &v1.SecretKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "sec"}, Key: "password"}}},
			{Name: "POD_NAME", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "POD_IP", ValueFrom: &v1.EnvVarSource{FieldRef: &v1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "MEM", ValueFrom: &v1.EnvVarSource{ResourceFieldRef: &v1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "COMPOSED", Value: "$(POD_NAME)-x"},
		},
		EnvFrom: []v1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &v1.ConfigMapEnvSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}}}},
		Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("250m"), v1.ResourceMemory: resource.MustParse("64Mi")},
			Limits: v1.ResourceList{v1.ResourceCPU: resource.MustParse("500m"), v1.ResourceMemory: resource.MustParse("128Mi")}},
		VolumeMounts: []v1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}, {Name: "cfg", MountPath: "/etc/cfg"},
			{Name: "info", MountPath: "/etc/info"}},
	}, v1.Container{Name: "sidecar", Args: []string{"sleep", "inf"}})
	pod.Labels = map[string]string{"app": "web"}
	pod.Spec.Volumes = []v1.Volume{
		{Name: "scratch", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
		{Name: "cfg", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "cfg"}}}},
		{Name: "info", VolumeSource: v1.VolumeSource{DownwardAPI: &v1.DownwardAPIVolumeSource{Items: []v1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &v1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}},
	}
	st := f.sync(pod)
	if st.Phase != v1.PodRunning || st.PodIP == "" || st.HostIP != "192.0.2.10" || st.QOSClass != v1.PodQOSBurstable {
		t.Fatalf("status = %+v", st)
	}
	for _, c := range st.Conditions {
		if c.Status != v1.ConditionTrue {
			t.Errorf("condition %s = %s", c.Type, c.Status)
		}
	}
	if len(st.Conditions) != 5 || st.Conditions[0].Type != "PodReadyToStartContainers" {
		t.Errorf("conditions = %+v", st.Conditions)
	}
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	sb := f.runtime.SandboxConfig(state.Newest().Id)
	if sb.Hostname != "web" || !strings.HasSuffix(sb.LogDirectory, "pods/default_web_"+string(pod.UID)) ||
		sb.DnsConfig.Servers[0] != "10.96.0.10" || sb.DnsConfig.Searches[0] != "default.svc.cluster.local" ||
		sb.DnsConfig.Searches[3] != "example.org" || sb.PortMappings[0].HostPort != 8080 ||
		sb.Linux.CgroupParent != "/kubepods/burstable/pod"+string(pod.UID) {
		t.Errorf("sandbox config = %v", sb)
	}
	app := f.runtime.ContainerConfig(state.Latest("app", "").Id)
	env := map[string]string{}
	for _, kv := range app.Envs {
		env[kv.Key] = string(kv.Value)
	}
	want := map[string]string{"GREETING": "hello", "PASSWORD": "s3cret", "POD_NAME": "web", "POD_IP": st.PodIP, "MEM": "128",
		"COMPOSED": "web-x", "CM_greeting": "hello", "CM_file.txt": "content"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if strings.Join(app.Args, " ") != "echo hello $(MISSING)" {
		t.Errorf("args = %q", app.Args)
	}
	r := app.Linux.Resources
	if r.CpuShares != 256 || r.CpuQuota != 50000 || r.CpuPeriod != 100000 || r.MemoryLimitInBytes != 128<<20 || r.OomScoreAdj < 2 || r.OomScoreAdj > 999 {
		t.Errorf("resources = %v", r)
	}
	if len(app.Mounts) != 3 || !app.Mounts[1].Readonly || app.Mounts[0].Readonly {
		t.Fatalf("mounts = %v", app.Mounts)
	}
	if b, _ := os.ReadFile(filepath.Join(app.Mounts[1].HostPath, "file.txt")); string(b) != "content" {
		t.Errorf("configmap volume file = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(app.Mounts[2].HostPath, "labels")); string(b) != `app="web"` {
		t.Errorf("downward API labels = %q", b)
	}
	if !strings.Contains(app.Mounts[0].HostPath, "/volumes/kubernetes.io~empty-dir/scratch") {
		t.Errorf("emptyDir at %s", app.Mounts[0].HostPath)
	}
	// A second sync changes nothing.
	before := len(f.runtime.CallsSnapshot())
	f.sync(pod)
	for _, c := range f.runtime.CallsSnapshot()[before:] {
		t.Errorf("idempotent sync called %s", c)
	}
}

func TestCrashLoopBackOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.runtime.ExitOnStart["app"] = 1
	pod := newPod("crash", v1.Container{Name: "app"})
	st := f.sync(pod) // first start
	steps := []struct {
		advance  time.Duration
		reason   string
		restarts int32
	}{
		{0, "", 1},                 // the first crash restarts at once
		{0, "CrashLoopBackOff", 1}, // then backs off 10s
		{9 * time.Second, "CrashLoopBackOff", 1},
		{time.Second, "", 2},                      // 10s later: restart
		{10 * time.Second, "CrashLoopBackOff", 2}, // now 20s
		{10 * time.Second, "", 3},
	}
	for i, s := range steps {
		f.clock.Step(s.advance)
		st = f.sync(pod)
		cs := st.ContainerStatuses[0]
		reason := ""
		if cs.State.Waiting != nil {
			reason = cs.State.Waiting.Reason
		}
		if reason != s.reason || cs.RestartCount != s.restarts {
			t.Fatalf("step %d: reason %q restarts %d, want %q %d (%+v)", i, reason, cs.RestartCount, s.reason, s.restarts, cs.State)
		}
		if reason == "CrashLoopBackOff" && (!strings.Contains(cs.State.Waiting.Message, "restarting failed container=app pod=crash_default(") ||
			cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 1) {
			t.Errorf("step %d: waiting %+v last %+v", i, cs.State.Waiting, cs.LastTerminationState)
		}
	}
	if st.Phase != v1.PodRunning {
		t.Errorf("phase = %s, want Running while crash looping", st.Phase)
	}
	if d := f.m.backoff.Delay(string(pod.UID) + "/app"); d != 40*time.Second {
		t.Errorf("backoff delay = %s, want 40s", d)
	}
	// Dead attempts beyond the current and previous one are removed.
	f.sync(pod)
	if state, _ := f.m.GetPodState(f.ctx, pod.UID); len(state.Containers) != 2 || restartCountOf(state.Containers[1]) != 2 {
		t.Errorf("kept %d containers, want attempts 3 and 2", len(state.Containers))
	}
}

func TestBackoffCapsAtFiveMinutes(t *testing.T) {
	t.Parallel()
	clk := clocktesting.NewFakeClock(time.Now())
	b := NewBackoff(clk)
	for i := 0; i < 10; i++ {
		b.Next("k", clk.Now())
	}
	if d := b.Delay("k"); d != 5*time.Minute {
		t.Errorf("delay = %s", d)
	}
}

func TestImagePull(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		policy     v1.PullPolicy
		pullErr    error
		wantReason []string // per sync, with 10s between the 2nd and 3rd
		wantPulls  int
	}{
		{"pulled when missing", v1.PullIfNotPresent, nil, []string{"", "", ""}, 1},
		{"pull error backs off", v1.PullIfNotPresent, errors.New("no registry"), []string{"ErrImagePull", "ImagePullBackOff", "ErrImagePull"}, 2},
		{"never", v1.PullNever, nil, []string{"ErrImageNeverPull", "ErrImageNeverPull", "ErrImageNeverPull"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			pod := newPod("p", v1.Container{Name: "app", Image: "example.org/missing:1", ImagePullPolicy: tc.policy})
			if tc.pullErr != nil {
				f.runtime.PullErrors["example.org/missing:1"] = tc.pullErr
			}
			for i, want := range tc.wantReason {
				if i == 2 {
					f.clock.Step(10 * time.Second)
				}
				st := f.sync(pod)
				got := ""
				if w := st.ContainerStatuses[0].State.Waiting; w != nil {
					got = w.Reason
				}
				if got != want {
					t.Errorf("sync %d: reason %q, want %q", i, got, want)
				}
				if want != "" && st.Phase != v1.PodPending {
					t.Errorf("sync %d: phase %s, want Pending", i, st.Phase)
				}
			}
			pulls := 0
			for _, c := range f.runtime.CallsSnapshot() {
				if c == "PullImage" {
					pulls++
				}
			}
			if pulls != tc.wantPulls {
				t.Errorf("pulls = %d, want %d", pulls, tc.wantPulls)
			}
		})
	}
}

func TestInitContainersRunInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := newPod("init", v1.Container{Name: "main"})
	pod.Spec.InitContainers = []v1.Container{{Name: "first", Image: img}, {Name: "second", Image: img}}
	st := f.sync(pod)
	if st.Phase != v1.PodPending || st.InitContainerStatuses[0].State.Running == nil || st.InitContainerStatuses[1].State.Waiting == nil ||
		st.ContainerStatuses[0].State.Waiting.Reason != "PodInitializing" {
		t.Fatalf("after 1st sync: %+v", st)
	}
	f.exitAll(pod, 0)
	st = f.sync(pod)
	if st.InitContainerStatuses[1].State.Running == nil || st.ContainerStatuses[0].State.Running != nil {
		t.Fatalf("after 2nd sync: %+v", st)
	}
	f.exitAll(pod, 0)
	st = f.sync(pod)
	if st.Phase != v1.PodRunning || st.ContainerStatuses[0].State.Running == nil || st.Conditions[1].Status != v1.ConditionTrue {
		t.Fatalf("after 3rd sync: %+v", st)
	}
}

func TestRestartPolicies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		policy    v1.RestartPolicy
		exitCode  int32
		wantPhase v1.PodPhase
		restarted bool
	}{
		{v1.RestartPolicyNever, 0, v1.PodSucceeded, false},
		{v1.RestartPolicyNever, 2, v1.PodFailed, false},
		{v1.RestartPolicyOnFailure, 0, v1.PodSucceeded, false},
		{v1.RestartPolicyOnFailure, 2, v1.PodRunning, true},
		{v1.RestartPolicyAlways, 0, v1.PodRunning, true},
	} {
		t.Run(string(tc.policy)+"/"+string(rune('0'+tc.exitCode)), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			pod := newPod("job", v1.Container{Name: "app"})
			pod.Spec.RestartPolicy = tc.policy
			ip := f.sync(pod).PodIP
			f.exitAll(pod, tc.exitCode)
			st := f.sync(pod)
			st = f.sync(pod) // once more: the terminal pod's sandbox is gone now
			if st.PodIP == "" || (!tc.restarted && st.PodIP != ip) {
				t.Errorf("pod IP %q after the pod ended, want %q kept as upstream keeps it", st.PodIP, ip)
			}
			if st.Phase != tc.wantPhase || (st.ContainerStatuses[0].RestartCount == 1) != tc.restarted {
				t.Errorf("phase %s restarts %d, want %s restarted=%v", st.Phase, st.ContainerStatuses[0].RestartCount, tc.wantPhase, tc.restarted)
			}
			if !tc.restarted {
				state, _ := f.m.GetPodState(f.ctx, pod.UID)
				if state.Newest().State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
					t.Errorf("terminal pod's sandbox still ready")
				}
				if st.Conditions[2].Reason != "PodCompleted" {
					t.Errorf("Ready condition = %+v", st.Conditions[2])
				}
			}
		})
	}
}

func TestStateRebuiltFromRuntime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := newPod("keep", v1.Container{Name: "a"}, v1.Container{Name: "b"})
	f.sync(pod)
	before := len(f.runtime.CallsSnapshot())
	f.m = f.manager() // a restarted kubelet
	st := f.sync(pod)
	for _, c := range f.runtime.CallsSnapshot()[before:] {
		t.Errorf("restarted kubelet called %s", c)
	}
	if st.Phase != v1.PodRunning || st.ContainerStatuses[1].RestartCount != 0 {
		t.Errorf("status = %+v", st)
	}
}

func TestSpecChangeRestartsContainer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := newPod("upd", v1.Container{Name: "a", Args: []string{"sleep", "inf"}})
	f.sync(pod)
	pod.Spec.Containers[0].Args = []string{"sleep", "100"}
	st := f.sync(pod)
	if st.ContainerStatuses[0].RestartCount != 1 || st.ContainerStatuses[0].State.Running == nil {
		t.Errorf("status = %+v", st.ContainerStatuses[0])
	}
}

func TestKillPod(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := newPod("gone", v1.Container{Name: "a"})
	pod.Spec.Volumes = []v1.Volume{{Name: "v", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}}
	f.sync(pod)
	if err := f.m.KillPod(f.ctx, pod, nil); err != nil {
		t.Fatal(err)
	}
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	if len(state.Sandboxes) != 0 || len(state.Containers) != 0 {
		t.Errorf("left behind %+v", state)
	}
	if _, err := os.Stat(f.m.PodDir(pod)); !os.IsNotExist(err) {
		t.Errorf("pod dir not removed: %v", err)
	}
}

// TestSandboxAttemptsAfterNodeRestarts: each restart of the node kills the
// sandbox and the kubelet starts a new one. The garbage collector removes
// old sandboxes, so their count falls behind; a new sandbox must still be
// numbered past every attempt the runtime holds, or containerd refuses its
// name.
func TestSandboxAttemptsAfterNodeRestarts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := newPod("web", v1.Container{Name: "web"})
	f.sync(pod)
	var attempts []uint32
	for restart := 0; restart < 5; restart++ {
		f.runtime.Reboot()
		f.clock.Step(time.Minute)
		f.m = f.manager() // the kubelet starts again with the node
		if err := f.m.SyncPod(f.ctx, pod); err != nil {
			t.Fatalf("restart %d: %v", restart, err)
		}
		state, err := f.m.GetPodState(f.ctx, pod.UID)
		if err != nil {
			t.Fatal(err)
		}
		sb := state.Newest()
		if sb == nil || sb.State != runtimeapi.PodSandboxState_SANDBOX_READY {
			t.Fatalf("restart %d: no ready sandbox: %+v", restart, sb)
		}
		attempts = append(attempts, sb.GetMetadata().GetAttempt())
		if st := f.m.PodStatus(pod, state); st.Phase != v1.PodRunning {
			t.Fatalf("restart %d: phase %s", restart, st.Phase)
		}
	}
	for i := 1; i < len(attempts); i++ {
		if attempts[i] <= attempts[i-1] {
			t.Fatalf("sandbox attempts %v do not rise", attempts)
		}
	}
}
