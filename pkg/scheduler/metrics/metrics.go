// Package metrics holds the scheduler's Prometheus metrics, with upstream's
// names, on a registry of their own (no global registry).
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Results of a scheduling attempt, as upstream labels them.
const (
	ResultScheduled     = "scheduled"
	ResultUnschedulable = "unschedulable"
	ResultError         = "error"
)

// Metrics is the scheduler's set. A nil *Metrics records nothing.
type Metrics struct {
	registry        *prometheus.Registry
	attempts        *prometheus.CounterVec
	attemptDuration *prometheus.HistogramVec
	leader          *prometheus.GaugeVec
}

// New registers the metrics. pending reports the pods waiting in each of
// the queue's sets (active, backoff, unschedulable) at scrape time.
func New(pending func() (active, backoff, unschedulable int)) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry()}
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Subsystem: "scheduler", Name: "schedule_attempts_total",
		Help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem."},
		[]string{"result", "profile"})
	m.attemptDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Subsystem: "scheduler", Name: "scheduling_attempt_duration_seconds",
		Help:    "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15)}, []string{"result", "profile"})
	m.leader = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "leader_election_master_status",
		Help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease."},
		[]string{"name"})
	m.registry.MustRegister(m.attempts, m.attemptDuration, m.leader,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if pending != nil {
		for i, q := range []string{"active", "backoff", "unschedulable"} {
			m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Subsystem: "scheduler", Name: "pending_pods",
				Help: "Number of pending pods, by the queue type.", ConstLabels: prometheus.Labels{"queue": q}},
				func() float64 {
					a, b, u := pending()
					return float64([]int{a, b, u}[i])
				}))
		}
	}
	return m
}

// ObserveAttempt records one scheduling attempt.
func (m *Metrics) ObserveAttempt(profile, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.attempts.WithLabelValues(result, profile).Inc()
	m.attemptDuration.WithLabelValues(result, profile).Observe(d.Seconds())
}

// SetLeader records whether this instance leads the named lease.
func (m *Metrics) SetLeader(name string, leading bool) {
	if m == nil {
		return
	}
	v := 0.0
	if leading {
		v = 1
	}
	m.leader.WithLabelValues(name).Set(v)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
