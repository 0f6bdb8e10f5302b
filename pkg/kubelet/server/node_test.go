package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

// nodeFixture is a Fake runtime with one running pod (ns/web, containers
// app and sidecar, app with usage) and one exited container, and fake
// cgroup (v1 or v2) and proc trees.
type nodeFixture struct {
	rt      *cri.Fake
	node    Node
	metrics *Metrics
	h       http.Handler
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var now = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)

func newNodeFixture(t *testing.T, cgroupV2 bool) *nodeFixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	rt := cri.NewFake("app:1", "side:1")
	rt.Now = func() time.Time { return now }
	sb, err := rt.RunPodSandbox(ctx, &runtimeapi.PodSandboxConfig{Metadata: &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "ns", Uid: "uid-1"}})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for name, img := range map[string]string{"app": "app:1", "sidecar": "side:1", "init": "app:1"} {
		id, err := rt.CreateContainer(ctx, sb, &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: name},
			Image: &runtimeapi.ImageSpec{Image: img}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	rt.Exit(ids["init"], 0)
	rt.SetUsage(ids["app"], &runtimeapi.ContainerStats{
		Cpu: &runtimeapi.CpuUsage{Timestamp: now.UnixNano(), UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: 2_500_000_000},
			UsageNanoCores: &runtimeapi.UInt64Value{Value: 1_000_000}},
		Memory: &runtimeapi.MemoryUsage{Timestamp: now.UnixNano(), WorkingSetBytes: &runtimeapi.UInt64Value{Value: 4096},
			UsageBytes: &runtimeapi.UInt64Value{Value: 8192}},
		WritableLayer: &runtimeapi.FilesystemUsage{UsedBytes: &runtimeapi.UInt64Value{Value: 100}, InodesUsed: &runtimeapi.UInt64Value{Value: 3}}})
	rt.ImageFs = &runtimeapi.ImageFsInfoResponse{ImageFilesystems: []*runtimeapi.FilesystemUsage{{
		FsId: &runtimeapi.FilesystemIdentifier{Mountpoint: dir}, UsedBytes: &runtimeapi.UInt64Value{Value: 12345}}}}

	cg, proc, logs := filepath.Join(dir, "cgroup"), filepath.Join(dir, "proc"), filepath.Join(dir, "log")
	if cgroupV2 {
		writeFiles(t, cg, map[string]string{"cpu.stat": "usage_usec 3000000\nuser_usec 1\n", "memory.current": "1000000\n", "memory.max": "max\n",
			"memory.stat": "anon 300000\ninactive_file 200000\npgfault 5\npgmajfault 1\n"})
	} else {
		writeFiles(t, cg, map[string]string{"cpuacct/cpuacct.usage": "3000000000\n", "memory/memory.usage_in_bytes": "1000000\n", "memory/memory.limit_in_bytes": "9223372036854771712\n",
			"memory/memory.stat": "total_rss 300000\ntotal_inactive_file 200000\ntotal_pgfault 5\ntotal_pgmajfault 1\n"})
	}
	writeFiles(t, proc, map[string]string{"meminfo": "MemTotal: 2000 kB\nMemFree: 500 kB\n", "stat": "cpu 1 2 3 4 5 6 7 8\nbtime 1700000000\n",
		"sys/kernel/pid_max": "4194304\n",
		"net/dev": "Inter-|   Receive\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n" +
			"    lo: 9 9 0 0 0 0 0 0 9 9 0 0 0 0 0 0\n  eth0: 100 1 2 0 0 0 0 0 200 2 3 0 0 0 0 0\n"})
	writeFiles(t, logs, map[string]string{"syslog": "hello from syslog\n", "pods/ns_web_uid-1/app/0.log": "0123456789"})
	writeFiles(t, dir, map[string]string{"secret": "do not serve"})

	m := NewMetrics()
	n := Node{Name: "node-a", Runtime: rt, Metrics: m, Config: map[string]any{"kind": "KubeletConfiguration", "maxPods": 110},
		Spec:    func() MachineInfo { return MachineInfo{NumCores: 2, MemoryCapacity: 2048000, MachineID: "mid"} },
		RootDir: dir, LogDir: logs, PodLogDir: filepath.Join(logs, "pods"), CgroupRoot: cg, ProcRoot: proc,
		Now: func() time.Time { return now }}
	return &nodeFixture{rt: rt, node: n, metrics: m,
		h: NewNodeHandler(&fakeProvider{}, nil, n, slog.New(slog.NewTextHandler(io.Discard, nil)))}
}

func (f *nodeFixture) get(t *testing.T, path string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w
}

// parseMetrics parses the text format strictly, and as the conformance
// framework's metrics grabber does (expfmt's text decoder into samples).
func parseMetrics(t *testing.T, body string) (map[string]*dto.MetricFamily, model.Vector) {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, body)
	}
	dec := expfmt.SampleDecoder{Dec: expfmt.NewDecoder(strings.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain)),
		Opts: &expfmt.DecodeOptions{}}
	var all model.Vector
	for {
		var v model.Vector
		if err := dec.Decode(&v); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode samples: %v", err)
		}
		all = append(all, v...)
	}
	return families, all
}

// sample returns the value of the sample of name with labels (nil: any).
func sample(t *testing.T, v model.Vector, name string, labels map[string]string) float64 {
	t.Helper()
next:
	for _, s := range v {
		if string(s.Metric[model.MetricNameLabel]) != name {
			continue
		}
		for k, want := range labels {
			if string(s.Metric[model.LabelName(k)]) != want {
				continue next
			}
		}
		return float64(s.Value)
	}
	t.Fatalf("no sample %s%v", name, labels)
	return 0
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	f := newNodeFixture(t, true)
	f.metrics.ObserveRuntimeOperation(cri.OperationName("/runtime.v1.RuntimeService/ListContainers"), 30*time.Millisecond, nil)
	f.metrics.ObserveRuntimeOperation("list_containers", 10*time.Millisecond, nil)
	f.metrics.ObserveRuntimeOperation("pull_image", time.Second, context.DeadlineExceeded)
	f.metrics.ObservePodStart(3 * time.Second)
	w := f.get(t, "/metrics")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	families, v := parseMetrics(t, w.Body.String())
	for name, want := range map[string]dto.MetricType{"kubelet_runtime_operations_duration_seconds": dto.MetricType_HISTOGRAM,
		"kubelet_pod_start_duration_seconds": dto.MetricType_HISTOGRAM, "kubelet_runtime_operations_total": dto.MetricType_COUNTER,
		"go_goroutines": dto.MetricType_GAUGE, "process_cpu_seconds_total": dto.MetricType_COUNTER} {
		if fam := families[name]; fam == nil || fam.GetType() != want {
			t.Errorf("family %s = %v, want type %v", name, fam, want)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kubelet_node_name", map[string]string{"node": "node-a"}, 1},
		{"kubelet_running_pods", nil, 1},
		{"kubelet_running_containers", map[string]string{"container_state": "running"}, 2},
		{"kubelet_running_containers", map[string]string{"container_state": "exited"}, 1},
		{"kubelet_running_containers", map[string]string{"container_state": "created"}, 0},
		{"kubelet_runtime_operations_total", map[string]string{"operation_type": "list_containers"}, 2},
		{"kubelet_runtime_operations_errors_total", map[string]string{"operation_type": "pull_image"}, 1},
		{"kubelet_runtime_operations_duration_seconds_count", map[string]string{"operation_type": "list_containers"}, 2},
		{"kubelet_runtime_operations_duration_seconds_bucket", map[string]string{"operation_type": "list_containers", "le": "0.03125"}, 2},
		{"kubelet_pod_start_duration_seconds_count", nil, 1},
	} {
		if got := sample(t, v, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestResourceMetrics(t *testing.T) {
	t.Parallel()
	f := newNodeFixture(t, true)
	w := f.get(t, "/metrics/resource")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics/resource = %d", w.Code)
	}
	_, v := parseMetrics(t, w.Body.String())
	app := map[string]string{"container": "app", "pod": "web", "namespace": "ns"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"node_cpu_usage_seconds_total", nil, 3},
		{"node_memory_working_set_bytes", nil, 800000},
		{"container_cpu_usage_seconds_total", app, 2.5},
		{"container_memory_working_set_bytes", app, 4096},
		{"pod_cpu_usage_seconds_total", map[string]string{"pod": "web", "namespace": "ns"}, 2.5},
		{"pod_memory_working_set_bytes", map[string]string{"pod": "web", "namespace": "ns"}, 4096},
		{"container_start_time_seconds", app, float64(now.Unix())},
		{"scrape_error", nil, 0},
		{"resource_scrape_error", nil, 0},
	} {
		if got := sample(t, v, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if !strings.Contains(w.Body.String(), `container_cpu_usage_seconds_total{container="app",namespace="ns",pod="web"} 2.5 `) {
		t.Errorf("samples not stamped with their time:\n%s", w.Body.String())
	}
}

func TestCadvisorMetrics(t *testing.T) {
	t.Parallel()
	f := newNodeFixture(t, false)
	w := f.get(t, "/metrics/cadvisor")
	_, v := parseMetrics(t, w.Body.String())
	if got := sample(t, v, "container_cpu_usage_seconds_total", map[string]string{"id": "/", "cpu": "total"}); got != 3 {
		t.Errorf("node cpu = %v, want 3 (cgroup v1 cpuacct.usage)", got)
	}
	if got := sample(t, v, "container_memory_working_set_bytes", map[string]string{"container": "app", "pod": "web", "image": "app:1"}); got != 4096 {
		t.Errorf("app working set = %v", got)
	}
}

func TestStatsSummary(t *testing.T) {
	t.Parallel()
	for _, v2 := range []bool{true, false} {
		f := newNodeFixture(t, v2)
		w := f.get(t, "/stats/summary")
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("GET /stats/summary = %d %s", w.Code, w.Body)
		}
		var s Summary
		if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		n := s.Node
		if n.NodeName != "node-a" || n.StartTime.Unix() != 1700000000 {
			t.Errorf("node = %+v", n)
		}
		if n.CPU == nil || *n.CPU.UsageCoreNanoSeconds != 3_000_000_000 {
			t.Errorf("node cpu = %+v", n.CPU)
		}
		if m := n.Memory; m == nil || *m.UsageBytes != 1000000 || *m.WorkingSetBytes != 800000 || *m.RSSBytes != 300000 ||
			*m.AvailableBytes != 2048000-800000 || *m.PageFaults != 5 || *m.MajorPageFaults != 1 {
			t.Errorf("node memory = %+v", n.Memory)
		}
		if n.Fs == nil || n.Fs.CapacityBytes == nil || *n.Fs.CapacityBytes == 0 {
			t.Errorf("node fs = %+v", n.Fs)
		}
		if n.Runtime == nil || *n.Runtime.ImageFs.UsedBytes != 12345 || n.Runtime.ImageFs.CapacityBytes == nil {
			t.Errorf("runtime = %+v", n.Runtime)
		}
		if n.Network == nil || n.Network.Name != "eth0" || *n.Network.RxBytes != 100 || *n.Network.TxErrors != 3 || len(n.Network.Interfaces) != 1 {
			t.Errorf("network = %+v", n.Network)
		}
		if n.Rlimit == nil || *n.Rlimit.MaxPID != 4194304 {
			t.Errorf("rlimit = %+v", n.Rlimit)
		}
		if len(s.Pods) != 1 {
			t.Fatalf("pods = %+v", s.Pods)
		}
		p := s.Pods[0]
		if p.PodRef != (PodReference{Name: "web", Namespace: "ns", UID: "uid-1"}) || len(p.Containers) != 2 {
			t.Fatalf("pod = %+v", p)
		}
		if *p.CPU.UsageCoreNanoSeconds != 2_500_000_000 || *p.Memory.WorkingSetBytes != 4096 {
			t.Errorf("pod cpu %+v memory %+v", p.CPU, p.Memory)
		}
		var app ContainerStats
		for _, c := range p.Containers {
			if c.Name == "app" {
				app = c
			}
		}
		if app.CPU == nil || *app.CPU.UsageNanoCores != 1_000_000 || *app.Memory.UsageBytes != 8192 || *app.Rootfs.UsedBytes != 100 ||
			app.Logs == nil || *app.Logs.UsedBytes != 10 || app.StartTime.Unix() != now.Unix() {
			t.Errorf("app = %+v", app)
		}
		if p.EphemeralStorage == nil || *p.EphemeralStorage.UsedBytes != 110 {
			t.Errorf("ephemeral storage = %+v", p.EphemeralStorage)
		}
	}
}

func TestStatsSummaryJSONShape(t *testing.T) {
	t.Parallel()
	f := newNodeFixture(t, true)
	var raw map[string]any
	if err := json.Unmarshal(f.get(t, "/stats/summary").Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	node := raw["node"].(map[string]any)
	for _, key := range []string{"nodeName", "startTime", "cpu", "memory", "network", "fs", "runtime", "rlimit"} {
		if _, ok := node[key]; !ok {
			t.Errorf("node has no %q: %v", key, node)
		}
	}
	if _, ok := node["network"].(map[string]any)["rxBytes"]; !ok {
		t.Errorf("network's default interface is not inline: %v", node["network"])
	}
	pod := raw["pods"].([]any)[0].(map[string]any)
	for _, key := range []string{"podRef", "startTime", "containers", "cpu", "memory", "ephemeral-storage"} {
		if _, ok := pod[key]; !ok {
			t.Errorf("pod has no %q: %v", key, pod)
		}
	}
	var only Summary
	if err := json.Unmarshal(f.get(t, "/stats/summary?only_cpu_and_memory=true").Body.Bytes(), &only); err != nil {
		t.Fatal(err)
	}
	if only.Node.Fs != nil || only.Node.CPU == nil || only.Pods[0].Containers[0].CPU == nil && only.Pods[0].Containers[1].CPU == nil ||
		only.Pods[0].EphemeralStorage != nil {
		t.Errorf("only_cpu_and_memory = %+v", only)
	}
}

func TestStatsSummaryRuntimeDown(t *testing.T) {
	t.Parallel()
	f := newNodeFixture(t, true)
	f.node.Runtime = failingStats{f.rt}
	h := NewNodeHandler(&fakeProvider{}, nil, f.node, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/stats/summary", nil))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("GET /stats/summary with the runtime down = %d", w.Code)
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics/resource", nil))
	_, v := parseMetrics(t, w.Body.String())
	if got := sample(t, v, "scrape_error", nil); got != 1 {
		t.Errorf("scrape_error = %v", got)
	}
	if got := sample(t, v, "node_cpu_usage_seconds_total", nil); got != 3 {
		t.Errorf("node cpu without the runtime = %v", got)
	}
}

type failingStats struct{ *cri.Fake }

func (failingStats) ListContainerStats(context.Context, *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error) {
	return nil, cri.NotFound("runtime", "gone")
}

func TestConfigzAndSpec(t *testing.T) {
	t.Parallel()
	f := newNodeFixture(t, true)
	var got struct {
		KubeletConfig map[string]any `json:"kubeletconfig"`
	}
	if err := json.Unmarshal(f.get(t, "/configz").Body.Bytes(), &got); err != nil || got.KubeletConfig["maxPods"] != float64(110) {
		t.Errorf("/configz = %v, %v", got, err)
	}
	var spec map[string]any
	if err := json.Unmarshal(f.get(t, "/spec/").Body.Bytes(), &spec); err != nil || spec["num_cores"] != float64(2) || spec["machine_id"] != "mid" {
		t.Errorf("/spec/ = %v, %v", spec, err)
	}
}

func TestNodeLogs(t *testing.T) {
	t.Parallel()
	f := newNodeFixture(t, true)
	if w := f.get(t, "/logs/"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `href="syslog"`) ||
		!strings.Contains(w.Body.String(), `href="pods/"`) {
		t.Errorf("GET /logs/ = %d %s", w.Code, w.Body)
	}
	if w := f.get(t, "/logs/syslog"); w.Code != http.StatusOK || w.Body.String() != "hello from syslog\n" {
		t.Errorf("GET /logs/syslog = %d %q", w.Code, w.Body)
	}
	if w := f.get(t, "/logs"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/logs/" {
		t.Errorf("GET /logs = %d %v", w.Code, w.Header())
	}
	if w := f.get(t, "/logs/nope"); w.Code != http.StatusNotFound {
		t.Errorf("GET /logs/nope = %d", w.Code)
	}
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	for _, path := range []string{"/logs/../secret", "/logs/%2e%2e/secret", "/logs/..%2fsecret", "/logs/pods/../../secret", "/logs/..\\secret"} {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
		resp, _ := io.ReadAll(conn)
		conn.Close()
		if strings.Contains(string(resp), "do not serve") || !strings.Contains(string(resp), "HTTP/1.1 ") {
			t.Errorf("GET %s = %s", path, resp)
		}
	}
}

func TestStatsSummaryNodeMemoryLimit(t *testing.T) {
	t.Parallel()
	f := newNodeFixture(t, true)
	writeFiles(t, f.node.CgroupRoot, map[string]string{"memory.max": "1500000\n"})
	var s Summary
	if err := json.Unmarshal(f.get(t, "/stats/summary").Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if m := s.Node.Memory; m == nil || *m.AvailableBytes != 1500000-800000 {
		t.Errorf("node memory under a 1.5 MB limit = %+v", m)
	}
}
