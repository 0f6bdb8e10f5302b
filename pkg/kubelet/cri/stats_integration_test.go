package cri_test

import (
	"context"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/containerdtest"
)

// TestIntegrationStats reads a running container's cpu and memory, and
// the image filesystem, from a private containerd.
func TestIntegrationStats(t *testing.T) {
	t.Cleanup(func() { containerdtest.RemoveCgroups("kinctest") }) // after containerd stopped (LIFO)
	in := containerdtest.Start(t)
	rt := in.Runtime
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sbConfig := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "default", Uid: "uid-stats"},
		Hostname:     "p",
		LogDirectory: t.TempDir(),
		Linux:        &runtimeapi.LinuxPodSandboxConfig{CgroupParent: "/kinctest/poduid-stats"},
	}
	sb, err := rt.RunPodSandbox(ctx, sbConfig)
	if err != nil {
		t.Fatalf("RunPodSandbox: %v\n%s", err, in.Log())
	}
	defer rt.RemovePodSandbox(context.Background(), sb)
	id, err := rt.CreateContainer(ctx, sb, &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
		Image: &runtimeapi.ImageSpec{Image: containerdtest.TestImage}, Args: []string{"sleep", "inf"}, LogPath: "c/0.log"}, sbConfig)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	stats, err := rt.ListContainerStats(ctx, &runtimeapi.ContainerStatsFilter{PodSandboxId: sb})
	if err != nil || len(stats) != 1 {
		t.Fatalf("ListContainerStats = %v, %v", stats, err)
	}
	st := stats[0]
	if st.GetAttributes().GetId() != id || st.GetAttributes().GetMetadata().GetName() != "c" {
		t.Errorf("attributes = %v", st.GetAttributes())
	}
	if st.GetCpu().GetUsageCoreNanoSeconds() == nil || st.GetMemory().GetWorkingSetBytes().GetValue() == 0 {
		t.Errorf("cpu %v, memory %v: want usage", st.GetCpu(), st.GetMemory())
	}
	if pods, err := rt.ListPodSandboxStats(ctx, nil); err != nil {
		t.Logf("ListPodSandboxStats: %v (the kubelet falls back to its containers' sums)", err)
	} else {
		t.Logf("ListPodSandboxStats: %d sandboxes, first %v", len(pods), pods)
	}
	fs, err := rt.ImageFsInfo(ctx)
	if err != nil || len(fs.GetImageFilesystems()) == 0 || fs.GetImageFilesystems()[0].GetFsId().GetMountpoint() == "" {
		t.Errorf("ImageFsInfo = %v, %v", fs, err)
	}
}
