package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Node is what the node endpoints of the kubelet API serve: /metrics,
// /metrics/resource, /metrics/cadvisor, /stats/summary, /configz, /logs/
// and /spec/.
type Node struct {
	// Name is the node's name (kubelet_node_name, the Summary's nodeName).
	Name string
	// Runtime answers the stats and the running pods and containers.
	Runtime StatsRuntime
	// Metrics are the series the rest of the kubelet feeds (nil: a fresh
	// NewMetrics, with no runtime operations observed).
	Metrics *Metrics
	// Config is the running KubeletConfiguration, served as /configz's
	// "kubeletconfig".
	Config any
	// Spec returns the machine /spec/ describes (nil: /spec/ is not served).
	Spec func() MachineInfo
	// RootDir is the kubelet's root directory: the node filesystem of the Summary.
	RootDir string
	// LogDir is served under /logs/ ("/var/log").
	LogDir string
	// PodLogDir holds the pods' container logs ("/var/log/pods").
	PodLogDir string
	// CgroupRoot is where the node's cgroup hierarchy is mounted ("/sys/fs/cgroup").
	CgroupRoot string
	// ProcRoot is procfs ("/proc").
	ProcRoot string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// MachineInfo is /spec/: the part of cAdvisor's MachineInfo JSON we know.
type MachineInfo struct {
	Timestamp      time.Time `json:"timestamp"`
	NumCores       int       `json:"num_cores"`
	MemoryCapacity uint64    `json:"memory_capacity"`
	MachineID      string    `json:"machine_id"`
	SystemUUID     string    `json:"system_uuid"`
	BootID         string    `json:"boot_id"`
}

// NewNodeHandler returns the kubelet API: NewHandler's endpoints and the
// node endpoints n serves.
func NewNodeHandler(p Provider, rt Runtime, n Node, logger *slog.Logger) http.Handler {
	if n.Metrics == nil {
		n.Metrics = NewMetrics()
	}
	if n.Now == nil {
		n.Now = time.Now
	}
	stats := newStatsCollector(n)
	mux := http.NewServeMux()
	mux.Handle("/", NewHandler(p, rt, logger))
	nodeReg := prometheus.NewRegistry()
	nodeReg.MustRegister(newRuntimeStateCollector(n.Name, n.Runtime))
	mux.Handle("GET /metrics", metricsHandler(prometheus.Gatherers{n.Metrics.reg, nodeReg}, logger))
	resourceReg := prometheus.NewRegistry()
	resourceReg.MustRegister(newResourceCollector(stats))
	mux.Handle("GET /metrics/resource", metricsHandler(resourceReg, logger))
	cadvisorReg := prometheus.NewRegistry()
	cadvisorReg.MustRegister(newCadvisorCollector(stats))
	mux.Handle("GET /metrics/cadvisor", metricsHandler(cadvisorReg, logger))
	mux.HandleFunc("GET /stats/summary", func(w http.ResponseWriter, r *http.Request) { serveSummary(w, r, stats, logger) })
	mux.HandleFunc("GET /configz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"kubeletconfig": n.Config})
	})
	if n.Spec != nil {
		mux.HandleFunc("GET /spec/", func(w http.ResponseWriter, _ *http.Request) {
			info := n.Spec()
			info.Timestamp = n.Now()
			writeJSON(w, info)
		})
	}
	if n.LogDir != "" {
		mux.Handle("GET /logs", http.RedirectHandler("/logs/", http.StatusMovedPermanently))
		mux.Handle("GET /logs/", http.StripPrefix("/logs/", http.FileServer(http.Dir(n.LogDir))))
	}
	return mux
}

func metricsHandler(g prometheus.Gatherer, logger *slog.Logger) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slogPrinter{logger}, ErrorHandling: promhttp.ContinueOnError})
}

// slogPrinter logs promhttp's errors.
type slogPrinter struct{ logger *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.logger.Warn("serving metrics", "err", v) }

// serveSummary answers /stats/summary; ?only_cpu_and_memory=true leaves
// out everything but cpu and memory, as upstream.
func serveSummary(w http.ResponseWriter, r *http.Request, stats *statsCollector, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(r.Context(), scrapeTimeout)
	defer cancel()
	s, err := stats.Summary(ctx)
	if err != nil {
		logger.Warn("stats summary", "err", err)
		http.Error(w, "failed to get stats summary: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if r.URL.Query().Get("only_cpu_and_memory") == "true" {
		s.Node = NodeStats{NodeName: s.Node.NodeName, StartTime: s.Node.StartTime, CPU: s.Node.CPU, Memory: s.Node.Memory}
		for i, p := range s.Pods {
			pod := PodStats{PodRef: p.PodRef, StartTime: p.StartTime, CPU: p.CPU, Memory: p.Memory, Containers: []ContainerStats{}}
			for _, c := range p.Containers {
				pod.Containers = append(pod.Containers, ContainerStats{Name: c.Name, StartTime: c.StartTime, CPU: c.CPU, Memory: c.Memory})
			}
			s.Pods[i] = pod
		}
	}
	writeJSON(w, s)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
