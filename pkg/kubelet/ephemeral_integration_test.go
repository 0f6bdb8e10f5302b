package kubelet_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/kubelet/containerdtest"
)

// TestIntegrationEphemeralContainer is kubectl debug's path against a real
// containerd and apiserver: an ephemeral container added through
// pods/ephemeralcontainers to a running pod starts in its sandbox, sees the
// target container's processes (its /proc/1 is the target's), is exec'd
// into and attached to with a TTY through the kubelet, reports its exit through
// ephemeralContainerStatuses, is not restarted (by a restarted kubelet
// either), and dies with the pod.
func TestIntegrationEphemeralContainer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.startKubelet()
	pods := e.client.CoreV1().Pods("default")
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debuggee"}, Spec: v1.PodSpec{NodeName: nodeName,
		Tolerations: []v1.Toleration{{Operator: v1.TolerationOpExists}},
		Containers: []v1.Container{{Name: "app", Image: containerdtest.TestImage, ImagePullPolicy: v1.PullNever,
			Command: []string{"/testbin", "echo", "target-up", "--", "sleep", "inf"}}}}}
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var got *v1.Pod
	eventually(t, "debuggee running", 60*time.Second, func() (err error) {
		if got, err = e.pod("default", "debuggee"); err != nil {
			return err
		}
		return running(got)
	})
	appID := got.Status.ContainerStatuses[0].ContainerID

	// As kubectl debug -it --target=app does (stdin and a TTY): print PID
	// 1's command line, then echo stdin until its end, then exit 3.
	got.Spec.EphemeralContainers = append(got.Spec.EphemeralContainers, v1.EphemeralContainer{TargetContainerName: "app",
		EphemeralContainerCommon: v1.EphemeralContainerCommon{Name: "debugger", Image: containerdtest.TestImage, ImagePullPolicy: v1.PullNever,
			Command: []string{"/testbin", "cat", "/proc/1/cmdline", "--", "echo", "--", "cat", "--", "exit", "3"},
			Stdin:   true, StdinOnce: true, TTY: true, TerminationMessagePolicy: v1.TerminationMessageReadFile}})
	if _, err := pods.UpdateEphemeralContainers(ctx, "debuggee", got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	var dbg v1.ContainerStatus
	eventually(t, "debugger running", 60*time.Second, func() error {
		p, err := e.pod("default", "debuggee")
		if err != nil {
			return err
		}
		if len(p.Status.EphemeralContainerStatuses) != 1 || p.Status.EphemeralContainerStatuses[0].State.Running == nil {
			return fmt.Errorf("ephemeral statuses %+v", p.Status.EphemeralContainerStatuses)
		}
		dbg = p.Status.EphemeralContainerStatuses[0]
		return nil
	})
	if dbg.Name != "debugger" || dbg.ContainerID == "" || dbg.ImageID == "" || dbg.Ready || dbg.RestartCount != 0 {
		t.Errorf("running status = %+v", dbg)
	}

	// The target's process namespace: PID 1 is the app's process.
	eventually(t, "debugger log", 20*time.Second, func() error {
		out, err := podLogs(e.client, "default", "debuggee", &v1.PodLogOptions{Container: "debugger"})
		if err != nil {
			return err
		}
		if cmdline := strings.ReplaceAll(out, "\x00", " "); !strings.Contains(cmdline, "/testbin echo target-up -- sleep inf") {
			return fmt.Errorf("PID 1 seen by the debugger = %q", cmdline)
		}
		return nil
	})

	// Exec into it (as the conformance test does), then attach to it
	// through the kubelet, as kubectl debug -it does through the
	// apiserver; ^D on an empty line ends the TTY's input.
	k := e.kubeletAPI(t)
	var marco strings.Builder
	if err := k.stream(t, "websocket", "/exec/default/debuggee/debugger?command=/testbin&command=echo&command=marco&output=1",
		remotecommand.StreamOptions{Stdout: &marco}); err != nil || marco.String() != "marco\n" {
		t.Errorf("exec in the ephemeral container: %v, output %q", err, marco.String())
	}
	var echoed syncBuffer
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stdinR, stdinW := io.Pipe()
	go func() {
		io.WriteString(stdinW, "hello-debugger\n")
		echoed.waitFor("hello-debugger\r\nhello-debugger", 10*time.Second) // the TTY's echo, then cat's
		io.WriteString(stdinW, "\x04")
		stdinW.Close()
	}()
	err := k.executor(t, "websocket", "/attach/default/debuggee/debugger?input=1&output=1&tty=1").StreamWithContext(actx,
		remotecommand.StreamOptions{Stdin: stdinR, Stdout: &echoed, Tty: true})
	if !strings.Contains(echoed.String(), "hello-debugger\r\nhello-debugger") {
		t.Errorf("attach: %v, echoed %q", err, echoed.String())
	}

	// Its stdin closed: it exits 3 and stays terminated.
	eventually(t, "debugger terminated", 30*time.Second, func() error {
		p, err := e.pod("default", "debuggee")
		if err != nil {
			return err
		}
		dbg = p.Status.EphemeralContainerStatuses[0]
		if dbg.State.Terminated == nil {
			return fmt.Errorf("debugger state %+v", dbg.State)
		}
		return nil
	})
	if term := dbg.State.Terminated; term.ExitCode != 3 || term.Reason != "Error" || term.ContainerID == "" {
		t.Errorf("terminated status = %+v", dbg)
	}
	// Not restarted, by this kubelet nor by a restarted one (it finds the
	// container again by its labels).
	time.Sleep(2 * time.Second)
	e.stop()
	e.startKubelet()
	time.Sleep(3 * time.Second) // a few relists
	p, err := e.pod("default", "debuggee")
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Status.EphemeralContainerStatuses[0]; s.State.Terminated == nil || s.State.Terminated.ContainerID != dbg.State.Terminated.ContainerID || s.RestartCount != 0 {
		t.Errorf("debugger restarted: %+v", s)
	}
	if err := running(p); err != nil || p.Status.ContainerStatuses[0].ContainerID != appID || p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("the target changed: %v %+v", err, p.Status.ContainerStatuses)
	}
	sel := &runtimeapi.ContainerFilter{LabelSelector: map[string]string{"io.kubernetes.pod.uid": string(p.UID)}}
	cs, err := e.ctrd.Runtime.ListContainers(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for _, c := range cs {
		byName[c.Metadata.Name]++
	}
	if byName["debugger"] != 1 || byName["app"] != 1 {
		t.Errorf("containers of the pod by name = %v", byName)
	}

	// Deleting the pod removes its containers, the ephemeral one included.
	if err := pods.Delete(ctx, "debuggee", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "containers removed", 60*time.Second, func() error {
		cs, err := e.ctrd.Runtime.ListContainers(ctx, sel)
		if err != nil || len(cs) != 0 {
			return fmt.Errorf("%d containers left (%v)", len(cs), err)
		}
		return nil
	})
}

// TestIntegrationEphemeralContainerKubectlDebug runs the real `kubectl
// debug -i --target` (each supported kubectl found: SPDY before 1.30,
// WebSocket after) against the kubelet through the apiserver: the debug
// container's output, read through its attach (not kubectl's fallback to
// its log), shows the target's PID 1, and it ends terminated.
func TestIntegrationEphemeralContainerKubectlDebug(t *testing.T) {
	containerdtest.MaybeSkip(t)
	kubectls := testenv.KubectlVersions(t)
	e := newEnv(t)
	ctx := context.Background()
	e.startKubelet()
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debuggee"}, Spec: v1.PodSpec{NodeName: nodeName,
		Tolerations: []v1.Toleration{{Operator: v1.TolerationOpExists}},
		Containers: []v1.Container{{Name: "app", Image: containerdtest.TestImage, ImagePullPolicy: v1.PullNever,
			Command: []string{"/testbin", "echo", "target-up", "--", "sleep", "inf"}}}}}
	if _, err := e.client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "debuggee running", 60*time.Second, func() error {
		p, err := e.pod("default", "debuggee")
		if err != nil {
			return err
		}
		return running(p)
	})
	for i, kubectl := range kubectls {
		name := fmt.Sprintf("debugger-%d", i)
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		cmd := exec.CommandContext(cctx, kubectl, "--kubeconfig", e.api.Kubeconfig, "debug", "-i", "debuggee",
			"--image="+containerdtest.TestImage, "--image-pull-policy=Never", "--target=app", "--container="+name,
			"--", "/testbin", "sleep", "2", "--", "cat", "/proc/1/cmdline")
		cmd.Env = append(os.Environ(), "HOME="+e.dir)
		// A user's stdin stays open: at its end the runtime ends an attach
		// to a container without stdinOnce, which kubectl debug never sets.
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.CombinedOutput() // closes stdin once kubectl exited
		cancel()
		_ = stdin
		if cmdline := strings.ReplaceAll(string(out), "\x00", " "); err != nil || !strings.Contains(cmdline, "/testbin echo target-up -- sleep inf") ||
			strings.Contains(cmdline, "falling back") {
			t.Errorf("%s debug: %v\n%s", kubectl, err, cmdline)
		}
		eventually(t, name+" terminated", 30*time.Second, func() error {
			p, err := e.pod("default", "debuggee")
			if err != nil {
				return err
			}
			for _, s := range p.Status.EphemeralContainerStatuses {
				if s.Name == name && s.State.Terminated != nil && s.State.Terminated.ExitCode == 0 {
					return nil
				}
			}
			return fmt.Errorf("ephemeral statuses %+v", p.Status.EphemeralContainerStatuses)
		})
	}
}
