package kuberuntime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := newPod("cfgerr", v1.Container{Name: "a", Env: []v1.EnvVar{{Name: "X", ValueFrom: &v1.EnvVarSource{
		ConfigMapKeyRef: &v1.ConfigMapKeySelector{LocalObjectReference: v1.LocalObjectReference{Name: "absent"}, Key: "k"}}}}})
	st := f.sync(pod)
	if w := st.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "CreateContainerConfigError" {
		t.Errorf("state = %+v", st.ContainerStatuses[0].State)
	}
}

func TestHostNetworkAndDNS(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pod := newPod("hostnet", v1.Container{Name: "a"})
	pod.Spec.HostNetwork = true
	st := f.sync(pod)
	if st.PodIP != "192.0.2.10" {
		t.Errorf("podIP = %q, want the node IP", st.PodIP)
	}
	state, _ := f.m.GetPodState(f.ctx, pod.UID)
	sb := f.runtime.SandboxConfig(state.Newest().Id)
	if sb.Hostname != "" || sb.Linux.SecurityContext.NamespaceOptions.Network != runtimeapi.NamespaceMode_NODE ||
		sb.DnsConfig.Servers[0] != "192.0.2.53" {
		t.Errorf("sandbox config = %v", sb)
	}
}

func TestOOMScoreAdjNeverLowered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.m.cfg.OOMScoreAdjFloor = -500
	q := resource.MustParse("100m")
	pod := newPod("g", v1.Container{Name: "a", Resources: v1.ResourceRequirements{
		Limits: v1.ResourceList{v1.ResourceCPU: q, v1.ResourceMemory: resource.MustParse("10Mi")}}})
	if r := f.m.linuxResources(pod, &pod.Spec.Containers[0]); r.OomScoreAdj != -500 {
		t.Errorf("guaranteed oom_score_adj = %d, want the floor -500", r.OomScoreAdj)
	}
	f.m.cfg.OOMScoreAdjFloor = 0
	if r := f.m.linuxResources(pod, &pod.Spec.Containers[0]); r.OomScoreAdj != 0 {
		t.Errorf("oom_score_adj = %d, want 0", r.OomScoreAdj)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		image   string
		pullErr error
		want    []string
	}{
		{"present", img, nil, []string{
			`Normal Pulled Container image "kinc.local/testbin:test" already present on machine`,
			"Normal Created Created container: app", "Normal Started Started container app"}},
		{"pulled", "example.org/new:1", nil, []string{`Normal Pulling Pulling image "example.org/new:1"`,
			`Normal Pulled Successfully pulled image "example.org/new:1" in 0s`, "Normal Created Created container: app", "Normal Started Started container app"}},
		{"pull fails", "example.org/bad:1", errors.New("no registry"), []string{`Normal Pulling Pulling image "example.org/bad:1"`,
			`Warning Failed Failed to pull image "example.org/bad:1": no registry`, "Warning Failed Error: ErrImagePull"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			rec := record.NewFakeRecorder(20)
			f.m.SetRecorder(rec)
			if tc.pullErr != nil {
				f.runtime.PullErrors[tc.image] = tc.pullErr
			}
			f.sync(newPod("ev", v1.Container{Name: "app", Image: tc.image}))
			close(rec.Events)
			var got []string
			for e := range rec.Events {
				got = append(got, e)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCgroupParent(t *testing.T) {
	t.Parallel()
	guaranteed := newPod("g", v1.Container{Name: "a", Resources: v1.ResourceRequirements{Limits: v1.ResourceList{
		v1.ResourceCPU: resource.MustParse("1"), v1.ResourceMemory: resource.MustParse("1Gi")}}})
	burstable := newPod("b", v1.Container{Name: "a", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{
		v1.ResourceCPU: resource.MustParse("1")}}})
	besteffort := newPod("e", v1.Container{Name: "a"})
	besteffort.UID = "1234-abcd"
	for _, tc := range []struct {
		driver, root string
		pod          *v1.Pod
		want         string
	}{
		{"cgroupfs", "/", guaranteed, "/kubepods/poduid-g"},
		{"cgroupfs", "/kubelet", burstable, "/kubelet/kubepods/burstable/poduid-b"},
		{"systemd", "/", besteffort, "kubepods-besteffort-pod1234_abcd.slice"},
		{"systemd", "/kubelet", guaranteed, "kubelet-kubepods-poduid_g.slice"},
		{"systemd", "/kubelet.slice", burstable, "kubelet-kubepods-burstable-poduid_b.slice"},
	} {
		f := newFixture(t)
		f.m.cfg.CgroupDriver, f.m.cfg.CgroupRoot = tc.driver, tc.root
		if got := f.m.cgroupParent(tc.pod); got != tc.want {
			t.Errorf("%s %s %s: %q, want %q", tc.driver, tc.root, tc.pod.Name, got, tc.want)
		}
	}
}

func TestResourceFieldRefDefaultsToNodeAllocatable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.m.cfg.NodeCPUMilli = 2000
	pod := newPod("r", v1.Container{Name: "a", Resources: v1.ResourceRequirements{Requests: v1.ResourceList{v1.ResourceCPU: resource.MustParse("250m")}}})
	for _, tc := range []struct{ res, divisor, want string }{
		{"limits.cpu", "", "2"},
		{"requests.cpu", "1m", "250"},
		{"requests.cpu", "", "1"}, // rounded up
		{"limits.memory", "1Gi", "8"},
	} {
		ref := &v1.ResourceFieldSelector{Resource: tc.res}
		if tc.divisor != "" {
			ref.Divisor = resource.MustParse(tc.divisor)
		}
		got, err := f.m.containerResource(pod, &pod.Spec.Containers[0], ref)
		if err != nil || got != tc.want {
			t.Errorf("%s/%s = %q, %v; want %q", tc.res, tc.divisor, got, err, tc.want)
		}
	}
}

func TestServiceEnv(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.objects.services = []v1.Service{
		{ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default"}, Spec: v1.ServiceSpec{ClusterIP: "10.96.0.1",
			Ports: []v1.ServicePort{{Name: "https", Port: 443, Protocol: v1.ProtocolTCP}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "redis-main", Namespace: "apps"}, Spec: v1.ServiceSpec{ClusterIP: "10.96.0.11",
			Ports: []v1.ServicePort{{Port: 6379, Protocol: v1.ProtocolTCP}}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "headless", Namespace: "apps"}, Spec: v1.ServiceSpec{ClusterIP: "None",
			Ports: []v1.ServicePort{{Port: 80}}}},
	}
	pod := newPod("svc", v1.Container{Name: "a", Env: []v1.EnvVar{{Name: "REDIS_MAIN_SERVICE_PORT", Value: "override"}}})
	pod.Namespace = "apps"
	envs, err := f.m.containerEnv(context.Background(), pod, &pod.Spec.Containers[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range envs {
		got[kv.Key] = string(kv.Value)
	}
	want := map[string]string{
		"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBERNETES_SERVICE_PORT_HTTPS": "443",
		"KUBERNETES_PORT": "tcp://10.96.0.1:443", "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
		"REDIS_MAIN_SERVICE_HOST": "10.96.0.11", "REDIS_MAIN_SERVICE_PORT": "override", "REDIS_MAIN_PORT_6379_TCP": "tcp://10.96.0.11:6379",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["HEADLESS_SERVICE_HOST"]; ok {
		t.Error("headless service got env vars")
	}
	no := false
	pod.Spec.EnableServiceLinks = &no
	envs, _ = f.m.containerEnv(context.Background(), pod, &pod.Spec.Containers[0], nil)
	for _, kv := range envs {
		if strings.HasPrefix(kv.Key, "REDIS_MAIN_SERVICE_HOST") {
			t.Error("enableServiceLinks=false still linked services")
		}
	}
}

func TestTerminationMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		policy v1.TerminationMessagePolicy
		file   string
		log    string
		code   int32
		want   string
	}{
		{"file", v1.TerminationMessageReadFile, "bye", "", 1, "bye"},
		{"file wins over logs", v1.TerminationMessageFallbackToLogsOnError, "bye", "x\n", 1, "bye"},
		{"fallback to logs", v1.TerminationMessageFallbackToLogsOnError, "", "2026-01-01T00:00:00Z stderr F boom\n", 1, "boom\n"},
		{"no fallback on success", v1.TerminationMessageFallbackToLogsOnError, "", "2026-01-01T00:00:00Z stdout F fine\n", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.runtime.ExitOnStart["app"] = tc.code
			pod := newPod("msg", v1.Container{Name: "app", TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: tc.policy})
			pod.Spec.RestartPolicy = v1.RestartPolicyNever
			f.sync(pod)
			state, _ := f.m.GetPodState(f.ctx, pod.UID)
			cs := state.Containers[0]
			os.WriteFile(cs.Annotations[annotationTerminationMsgHost], []byte(tc.file), 0o644)
			os.MkdirAll(filepath.Dir(cs.LogPath), 0o755)
			os.WriteFile(cs.LogPath, []byte(tc.log), 0o644)
			st := f.sync(pod)
			if got := st.ContainerStatuses[0].State.Terminated.Message; got != tc.want {
				t.Errorf("message = %q, want %q", got, tc.want)
			}
		})
	}
}

type fakeHooks struct {
	rt    *cri.Fake
	calls []string
	fail  bool
}

func (h *fakeHooks) RunHook(_ context.Context, _ *v1.Pod, c *v1.Container, id string, _ []string, lh *v1.LifecycleHandler) error {
	h.calls = append(h.calls, c.Name+":"+lh.Exec.Command[0])
	h.rt.Calls = append(h.rt.Calls, "Hook") // ordered with the runtime's calls (single-threaded test)
	if h.fail {
		return errors.New("hook failed")
	}
	return nil
}

func TestLifecycleHooks(t *testing.T) {
	t.Parallel()
	for _, fail := range []bool{false, true} {
		f := newFixture(t)
		hooks := &fakeHooks{rt: f.runtime, fail: fail}
		f.m.SetHookRunner(hooks)
		pod := newPod("hooks", v1.Container{Name: "app", Lifecycle: &v1.Lifecycle{
			PostStart: &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"post"}}},
			PreStop:   &v1.LifecycleHandler{Exec: &v1.ExecAction{Command: []string{"pre"}}}}})
		st := f.sync(pod)
		if fail {
			if w := st.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "PostStartHookError" {
				t.Errorf("failed postStart: state %+v", st.ContainerStatuses[0].State)
			}
			continue
		}
		if st.ContainerStatuses[0].State.Running == nil {
			t.Fatalf("state %+v", st.ContainerStatuses[0].State)
		}
		if err := f.m.KillPod(f.ctx, pod, nil); err != nil {
			t.Fatal(err)
		}
		calls := strings.Join(f.runtime.CallsSnapshot(), ",")
		if !strings.Contains(calls, "StartContainer,Hook") || !strings.Contains(calls, "Hook,StopContainer") ||
			strings.Join(hooks.calls, ",") != "app:post,app:pre" {
			t.Errorf("calls %s, hooks %v", calls, hooks.calls)
		}
	}
}
