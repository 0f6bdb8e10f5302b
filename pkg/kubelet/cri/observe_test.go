package cri

import (
	"context"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestOperationName(t *testing.T) {
	for method, want := range map[string]string{
		"/runtime.v1.RuntimeService/ListContainers":      "list_containers",
		"/runtime.v1.RuntimeService/RunPodSandbox":       "run_podsandbox",
		"/runtime.v1.RuntimeService/PodSandboxStatus":    "podsandbox_status",
		"/runtime.v1.RuntimeService/ListPodSandboxStats": "list_podsandbox_stats",
		"/runtime.v1.ImageService/ImageFsInfo":           "image_fs_info",
		"ExecSync":                                       "exec_sync",
		"Version":                                        "version",
	} {
		if got := OperationName(method); got != want {
			t.Errorf("OperationName(%q) = %q, want %q", method, got, want)
		}
	}
}

func TestFakeStats(t *testing.T) {
	ctx := context.Background()
	f := NewFake("img")
	sb, _ := f.RunPodSandbox(ctx, &runtimeapi.PodSandboxConfig{Metadata: &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u"}})
	id, err := f.CreateContainer(ctx, sb, &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
		Image: &runtimeapi.ImageSpec{Image: "img"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = f.StartContainer(ctx, id)
	f.SetUsage(id, &runtimeapi.ContainerStats{Cpu: &runtimeapi.CpuUsage{UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: 5}},
		Memory: &runtimeapi.MemoryUsage{WorkingSetBytes: &runtimeapi.UInt64Value{Value: 7}}})
	cs, _ := f.ListContainerStats(ctx, &runtimeapi.ContainerStatsFilter{PodSandboxId: sb})
	if len(cs) != 1 || cs[0].Attributes.Metadata.Name != "c" || cs[0].Cpu.UsageCoreNanoSeconds.Value != 5 {
		t.Fatalf("ListContainerStats = %v", cs)
	}
	ps, _ := f.ListPodSandboxStats(ctx, nil)
	if len(ps) != 1 || ps[0].Linux.Memory.WorkingSetBytes.Value != 7 || len(ps[0].Linux.Containers) != 1 {
		t.Fatalf("ListPodSandboxStats = %v", ps)
	}
}
