package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/containerdtest"
)

// TestIntegrationStatsSummary serves /stats/summary and /metrics/resource
// for a pod running in a private containerd.
func TestIntegrationStatsSummary(t *testing.T) {
	t.Cleanup(func() { containerdtest.RemoveCgroups("kinctest") }) // after containerd stopped (LIFO)
	in := containerdtest.Start(t)
	rt := in.Runtime
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logDir := t.TempDir()
	sbConfig := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "ns", Uid: "uid-summary"},
		Hostname:     "web",
		LogDirectory: logDir,
		Linux:        &runtimeapi.LinuxPodSandboxConfig{CgroupParent: "/kinctest/poduid-summary"},
	}
	sb, err := rt.RunPodSandbox(ctx, sbConfig)
	if err != nil {
		t.Fatalf("RunPodSandbox: %v\n%s", err, in.Log())
	}
	defer rt.RemovePodSandbox(context.Background(), sb)
	id, err := rt.CreateContainer(ctx, sb, &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
		Image: &runtimeapi.ImageSpec{Image: containerdtest.TestImage}, Args: []string{"sleep", "inf"}, LogPath: "app/0.log"}, sbConfig)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	n := Node{Name: "node-a", Runtime: rt, RootDir: t.TempDir(), LogDir: t.TempDir(), PodLogDir: t.TempDir(),
		CgroupRoot: "/sys/fs/cgroup", ProcRoot: "/proc"}
	h := NewNodeHandler(&fakeProvider{}, nil, n, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/stats/summary", nil))
	var s Summary
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatalf("GET /stats/summary = %d %s: %v", w.Code, w.Body, err)
	}
	if s.Node.CPU == nil || s.Node.Memory == nil || s.Node.Fs == nil || s.Node.Runtime == nil {
		t.Errorf("node = %s", w.Body)
	}
	var pod *PodStats
	for i := range s.Pods {
		if s.Pods[i].PodRef.UID == "uid-summary" {
			pod = &s.Pods[i]
		}
	}
	if pod == nil || len(pod.Containers) != 1 || pod.Containers[0].Name != "app" || pod.Containers[0].CPU == nil ||
		pod.Containers[0].Memory == nil || pod.CPU == nil || pod.Memory == nil || pod.Network == nil {
		t.Fatalf("pods = %s", w.Body)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics/resource", nil))
	_, v := parseMetrics(t, w.Body.String())
	if ws := sample(t, v, "container_memory_working_set_bytes", map[string]string{"container": "app", "pod": "web", "namespace": "ns"}); ws <= 0 {
		t.Errorf("app working set = %v", ws)
	}
	if got := sample(t, v, "scrape_error", nil); got != 0 {
		t.Errorf("scrape_error = %v", got)
	}
}
