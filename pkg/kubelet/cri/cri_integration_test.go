package cri_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/containerdtest"
)

// TestIntegrationClient runs a pod sandbox (pod network through CNI) and a
// container through a private containerd and reads the container's log.
func TestIntegrationClient(t *testing.T) {
	t.Cleanup(func() { containerdtest.RemoveCgroups("kinctest") }) // after containerd stopped (LIFO)
	in := containerdtest.Start(t)
	rt := in.Runtime
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	v, err := rt.Version(ctx)
	if err != nil || v.RuntimeName != "containerd" {
		t.Fatalf("Version = %v, %v", v, err)
	}
	img, err := rt.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: containerdtest.TestImage})
	if err != nil || img == nil {
		t.Fatalf("ImageStatus = %v, %v", img, err)
	}
	if img, err := rt.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: "kinc.local/absent:1"}); err != nil || img != nil {
		t.Fatalf("ImageStatus(absent) = %v, %v; want nil, nil", img, err)
	}
	logDir := t.TempDir()
	sbConfig := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "default", Uid: "uid-1"},
		Hostname:     "p",
		LogDirectory: logDir,
		Labels:       map[string]string{"io.kubernetes.pod.uid": "uid-1"},
		Linux:        &runtimeapi.LinuxPodSandboxConfig{CgroupParent: "/kinctest/poduid-1"},
	}
	sb, err := rt.RunPodSandbox(ctx, sbConfig)
	if err != nil {
		t.Fatalf("RunPodSandbox: %v\n%s", err, in.Log())
	}
	st, err := rt.PodSandboxStatus(ctx, sb)
	if err != nil || !strings.HasPrefix(st.GetNetwork().GetIp(), "10.251.0.") {
		t.Fatalf("PodSandboxStatus = %v, %v; want a 10.251.0.x IP", st, err)
	}
	cConfig := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
		Image:    &runtimeapi.ImageSpec{Image: containerdtest.TestImage},
		Args:     []string{"echo", "hello", "--", "exit", "3"},
		LogPath:  "c/0.log",
	}
	id, err := rt.CreateContainer(ctx, sb, cConfig, sbConfig)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	var cs *runtimeapi.ContainerStatus
	for cs == nil || cs.State != runtimeapi.ContainerState_CONTAINER_EXITED {
		if cs, err = rt.ContainerStatus(ctx, id); err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatalf("container did not exit: %v", cs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if cs.ExitCode != 3 {
		t.Errorf("exit code = %d, want 3", cs.ExitCode)
	}
	logData, _ := os.ReadFile(filepath.Join(logDir, "c/0.log"))
	if !strings.Contains(string(logData), " stdout F hello") {
		t.Errorf("log = %q, want a CRI line with hello", logData)
	}
	list, err := rt.ListContainers(ctx, &runtimeapi.ContainerFilter{PodSandboxId: sb})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListContainers = %v, %v", list, err)
	}
	if err := rt.StopPodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := rt.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := rt.RemovePodSandbox(ctx, sb); err != nil {
		t.Errorf("second RemovePodSandbox = %v, want nil (idempotent)", err)
	}
}
