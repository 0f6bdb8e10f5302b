package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Metrics holds the kubelet's /metrics series that other parts of the
// kubelet feed: CRI operations (give ObserveRuntimeOperation to
// cri.WithObserver) and pod start durations. Safe for concurrent use.
type Metrics struct {
	reg      *prometheus.Registry
	ops      *prometheus.CounterVec
	errs     *prometheus.CounterVec
	dur      *prometheus.HistogramVec
	podStart prometheus.Histogram
}

// NewMetrics returns the kubelet's metrics with the Go runtime and process
// collectors, upstream's kubelet_runtime_operations_total,
// kubelet_runtime_operations_errors_total,
// kubelet_runtime_operations_duration_seconds and
// kubelet_pod_start_duration_seconds.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "runtime_operations_total",
			Help: "Cumulative number of runtime operations by operation type."}, []string{"operation_type"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "kubelet", Name: "runtime_operations_errors_total",
			Help: "Cumulative number of runtime operation errors by operation type."}, []string{"operation_type"}),
		dur: prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "runtime_operations_duration_seconds",
			Help:    "Duration in seconds of runtime operations. Broken down by operation type.",
			Buckets: prometheus.ExponentialBuckets(.005, 2.5, 14)}, []string{"operation_type"}),
		podStart: prometheus.NewHistogram(prometheus.HistogramOpts{Subsystem: "kubelet", Name: "pod_start_duration_seconds",
			Help: "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
			Buckets: []float64{0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800,
				2700, 3600}}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.ops, m.errs, m.dur, m.podStart)
	return m
}

// ObserveRuntimeOperation counts a CRI call (its cri.OperationName) and
// its duration, and its error if any. It is a cri.Observer.
func (m *Metrics) ObserveRuntimeOperation(operation string, took time.Duration, err error) {
	m.ops.WithLabelValues(operation).Inc()
	m.dur.WithLabelValues(operation).Observe(took.Seconds())
	if err != nil {
		m.errs.WithLabelValues(operation).Inc()
	}
}

// ObservePodStart records how long a pod took from the kubelet first
// seeing it to all its containers running.
func (m *Metrics) ObservePodStart(took time.Duration) { m.podStart.Observe(took.Seconds()) }

// scrapeTimeout bounds the runtime calls a scrape makes.
const scrapeTimeout = 10 * time.Second

// runtimeStateCollector reports kubelet_node_name,
// kubelet_running_pods and kubelet_running_containers from the runtime
// at each scrape.
type runtimeStateCollector struct {
	node       string
	rt         StatsRuntime
	nodeName   *prometheus.Desc
	pods       *prometheus.Desc
	containers *prometheus.Desc
}

func newRuntimeStateCollector(node string, rt StatsRuntime) *runtimeStateCollector {
	return &runtimeStateCollector{node: node, rt: rt,
		nodeName:   prometheus.NewDesc("kubelet_node_name", "The node's name. The count is always 1.", []string{"node"}, nil),
		pods:       prometheus.NewDesc("kubelet_running_pods", "Number of pods that have a running pod sandbox", nil, nil),
		containers: prometheus.NewDesc("kubelet_running_containers", "Number of containers currently running", []string{"container_state"}, nil),
	}
}

func (c *runtimeStateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.nodeName
	ch <- c.pods
	ch <- c.containers
}

func (c *runtimeStateCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.nodeName, prometheus.GaugeValue, 1, c.node)
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	ready := &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}
	if sandboxes, err := c.rt.ListPodSandbox(ctx, ready); err == nil {
		uids := map[string]bool{}
		for _, sb := range sandboxes {
			uids[sb.GetMetadata().GetUid()] = true
		}
		ch <- prometheus.MustNewConstMetric(c.pods, prometheus.GaugeValue, float64(len(uids)))
	}
	if containers, err := c.rt.ListContainers(ctx, nil); err == nil {
		counts := map[string]int{"running": 0, "exited": 0, "created": 0, "unknown": 0}
		for _, ctr := range containers {
			switch ctr.GetState() {
			case runtimeapi.ContainerState_CONTAINER_RUNNING:
				counts["running"]++
			case runtimeapi.ContainerState_CONTAINER_EXITED:
				counts["exited"]++
			case runtimeapi.ContainerState_CONTAINER_CREATED:
				counts["created"]++
			default:
				counts["unknown"]++
			}
		}
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(c.containers, prometheus.GaugeValue, float64(n), state)
		}
	}
}

// resourceCollector serves /metrics/resource as upstream: the node's,
// pods' and containers' cpu and working set from a Summary, each sample
// stamped with the time it was measured.
type resourceCollector struct {
	stats                                                      *statsCollector
	nodeCPU, nodeMem, ctrCPU, ctrMem, ctrStart, podCPU, podMem *prometheus.Desc
	scrapeErr, resourceScrapeErr                               *prometheus.Desc
}

func newResourceCollector(stats *statsCollector) *resourceCollector {
	ctr, pod := []string{"container", "pod", "namespace"}, []string{"pod", "namespace"}
	return &resourceCollector{stats: stats,
		nodeCPU:  prometheus.NewDesc("node_cpu_usage_seconds_total", "Cumulative cpu time consumed by the node in core-seconds", nil, nil),
		nodeMem:  prometheus.NewDesc("node_memory_working_set_bytes", "Current working set of the node in bytes", nil, nil),
		ctrCPU:   prometheus.NewDesc("container_cpu_usage_seconds_total", "Cumulative cpu time consumed by the container in core-seconds", ctr, nil),
		ctrMem:   prometheus.NewDesc("container_memory_working_set_bytes", "Current working set of the container in bytes", ctr, nil),
		ctrStart: prometheus.NewDesc("container_start_time_seconds", "Start time of the container since unix epoch in seconds", ctr, nil),
		podCPU:   prometheus.NewDesc("pod_cpu_usage_seconds_total", "Cumulative cpu time consumed by the pod in core-seconds", pod, nil),
		podMem:   prometheus.NewDesc("pod_memory_working_set_bytes", "Current working set of the pod in bytes", pod, nil),
		scrapeErr: prometheus.NewDesc("scrape_error",
			"1 if there was an error while getting container metrics, 0 otherwise", nil, nil),
		resourceScrapeErr: prometheus.NewDesc("resource_scrape_error",
			"1 if there was an error while getting container metrics, 0 otherwise", nil, nil),
	}
}

func (c *resourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.nodeCPU, c.nodeMem, c.ctrCPU, c.ctrMem, c.ctrStart, c.podCPU, c.podMem,
		c.scrapeErr, c.resourceScrapeErr} {
		ch <- d
	}
}

func (c *resourceCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	s, err := c.stats.snapshot(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeErr, prometheus.GaugeValue, failed)
	ch <- prometheus.MustNewConstMetric(c.resourceScrapeErr, prometheus.GaugeValue, failed)
	n := s.summary.Node
	emitCPU(ch, c.nodeCPU, n.CPU)
	emitMemory(ch, c.nodeMem, n.Memory)
	for _, p := range s.summary.Pods {
		for _, ctr := range p.Containers {
			emitCPU(ch, c.ctrCPU, ctr.CPU, ctr.Name, p.PodRef.Name, p.PodRef.Namespace)
			emitMemory(ch, c.ctrMem, ctr.Memory, ctr.Name, p.PodRef.Name, p.PodRef.Namespace)
			ch <- prometheus.NewMetricWithTimestamp(ctr.StartTime.Time, prometheus.MustNewConstMetric(c.ctrStart,
				prometheus.GaugeValue, float64(ctr.StartTime.UnixNano())/1e9, ctr.Name, p.PodRef.Name, p.PodRef.Namespace))
		}
		emitCPU(ch, c.podCPU, p.CPU, p.PodRef.Name, p.PodRef.Namespace)
		emitMemory(ch, c.podMem, p.Memory, p.PodRef.Name, p.PodRef.Namespace)
	}
}

func emitCPU(ch chan<- prometheus.Metric, d *prometheus.Desc, s *CPUStats, labels ...string) {
	if s == nil || s.UsageCoreNanoSeconds == nil {
		return
	}
	ch <- prometheus.NewMetricWithTimestamp(s.Time.Time, prometheus.MustNewConstMetric(d, prometheus.CounterValue,
		float64(*s.UsageCoreNanoSeconds)/1e9, labels...))
}

func emitMemory(ch chan<- prometheus.Metric, d *prometheus.Desc, s *MemoryStats, labels ...string) {
	if s == nil || s.WorkingSetBytes == nil {
		return
	}
	ch <- prometheus.NewMetricWithTimestamp(s.Time.Time, prometheus.MustNewConstMetric(d, prometheus.GaugeValue,
		float64(*s.WorkingSetBytes), labels...))
}

// cadvisorCollector serves /metrics/cadvisor: a minimal, honest subset of
// cAdvisor's container series (cpu, memory, start time) for the node
// (id "/") and the running containers, with cAdvisor's labels.
type cadvisorCollector struct {
	stats                                         *statsCollector
	cpu, memUsage, memWS, memRSS, start, lastSeen *prometheus.Desc
	machineMem                                    *prometheus.Desc
}

func newCadvisorCollector(stats *statsCollector) *cadvisorCollector {
	l := []string{"container", "id", "image", "name", "namespace", "pod"}
	return &cadvisorCollector{stats: stats,
		cpu:        prometheus.NewDesc("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", append([]string{"cpu"}, l...), nil),
		memUsage:   prometheus.NewDesc("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed", l, nil),
		memWS:      prometheus.NewDesc("container_memory_working_set_bytes", "Current working set in bytes.", l, nil),
		memRSS:     prometheus.NewDesc("container_memory_rss", "Size of RSS in bytes.", l, nil),
		start:      prometheus.NewDesc("container_start_time_seconds", "Start time of the container since unix epoch in seconds.", l, nil),
		lastSeen:   prometheus.NewDesc("container_last_seen", "Last time a container was seen by the exporter", l, nil),
		machineMem: prometheus.NewDesc("machine_memory_bytes", "Amount of memory installed on the machine.", nil, nil),
	}
}

func (c *cadvisorCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.cpu, c.memUsage, c.memWS, c.memRSS, c.start, c.lastSeen, c.machineMem} {
		ch <- d
	}
}

func (c *cadvisorCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	s, _ := c.stats.snapshot(ctx)
	n := s.summary.Node
	if n.Memory != nil && n.Memory.AvailableBytes != nil && n.Memory.WorkingSetBytes != nil {
		ch <- prometheus.MustNewConstMetric(c.machineMem, prometheus.GaugeValue, float64(*n.Memory.AvailableBytes+*n.Memory.WorkingSetBytes))
	}
	c.emit(ch, []string{"", "/", "", "", "", ""}, n.StartTime.Time, n.CPU, n.Memory)
	for _, p := range s.summary.Pods {
		for _, ctr := range p.Containers {
			info := s.info[infoKey(p.PodRef, ctr.Name)]
			c.emit(ch, []string{ctr.Name, "/" + info.id, info.image, info.id, p.PodRef.Namespace, p.PodRef.Name},
				ctr.StartTime.Time, ctr.CPU, ctr.Memory)
		}
	}
}

func (c *cadvisorCollector) emit(ch chan<- prometheus.Metric, labels []string, start time.Time, cpu *CPUStats, mem *MemoryStats) {
	if cpu != nil && cpu.UsageCoreNanoSeconds != nil {
		ch <- prometheus.MustNewConstMetric(c.cpu, prometheus.CounterValue, float64(*cpu.UsageCoreNanoSeconds)/1e9, append([]string{"total"}, labels...)...)
	}
	if mem != nil {
		for d, v := range map[*prometheus.Desc]*uint64{c.memUsage: mem.UsageBytes, c.memWS: mem.WorkingSetBytes, c.memRSS: mem.RSSBytes} {
			if v != nil {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(*v), labels...)
			}
		}
	}
	ch <- prometheus.MustNewConstMetric(c.start, prometheus.GaugeValue, float64(start.UnixNano())/1e9, labels...)
	ch <- prometheus.MustNewConstMetric(c.lastSeen, prometheus.GaugeValue, float64(c.stats.now().Unix()), labels...)
}
