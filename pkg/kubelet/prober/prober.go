// Package prober runs containers' startup, liveness and readiness probes
// (exec through CRI, httpGet, tcpSocket, grpc) with upstream's timing and
// thresholds, keeps their results for the pod status, and has containers
// that fail liveness or startup killed so their restart policy applies.
package prober

import (
	"context"
	"log/slog"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

// Kind is a probe kind.
type Kind string

// The probe kinds, in the order they gate each other.
const (
	Startup   Kind = "Startup"
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
)

// Target is one running container to probe.
type Target struct {
	Pod         *v1.Pod
	Container   *v1.Container
	ContainerID string
	StartedAt   time.Time
	PodIP       string
}

// KillFunc stops a container that failed its liveness or startup probe.
type KillFunc func(ctx context.Context, t Target, reason string)

type state struct {
	inFlight   bool
	lastRun    time.Time
	successes  int
	failures   int
	result     bool
	hasResult  bool
	killIssued bool
}

// Manager runs probes and remembers their results. Safe for concurrent use.
type Manager struct {
	runner   *runner
	clock    clock.Clock
	kill     KillFunc
	recorder record.EventRecorder // nil: no events
	logger   *slog.Logger

	mu sync.Mutex // guards states
	// states by pod UID, then container ID + kind.
	states map[types.UID]map[string]*state
}

// NewManager returns a Manager probing through rt; kill is called (at most
// once per container) when liveness or startup fails.
func NewManager(rt cri.Runtime, c clock.Clock, kill KillFunc, recorder record.EventRecorder, logger *slog.Logger) *Manager {
	return &Manager{runner: newRunner(rt), clock: c, kill: kill, recorder: recorder, logger: logger, states: map[types.UID]map[string]*state{}}
}

func probeOf(c *v1.Container, k Kind) *v1.Probe {
	switch k {
	case Startup:
		return c.StartupProbe
	case Liveness:
		return c.LivenessProbe
	}
	return c.ReadinessProbe
}

// Update starts the probes that are due for pod's running containers
// (targets) in the background, and forgets containers no longer listed.
func (m *Manager) Update(ctx context.Context, uid types.UID, targets []Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.states[uid]
	cur := map[string]*state{}
	now := m.clock.Now()
	for _, t := range targets {
		for _, k := range []Kind{Startup, Liveness, Readiness} {
			p := probeOf(t.Container, k)
			if p == nil {
				continue
			}
			key := t.ContainerID + "/" + string(k)
			st := old[key]
			if st == nil {
				st = &state{}
			}
			cur[key] = st
			started := m.startedLocked(old, t.ContainerID, t.Container)
			if (k == Startup && started) || (k != Startup && !started) || st.inFlight || st.killIssued {
				continue
			}
			if now.Sub(t.StartedAt) < time.Duration(p.InitialDelaySeconds)*time.Second {
				continue
			}
			period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
			if !st.lastRun.IsZero() && now.Sub(st.lastRun) < period {
				continue
			}
			st.inFlight, st.lastRun = true, now
			go m.probe(ctx, uid, t, k, p, st)
		}
	}
	m.states[uid] = cur
}

func (m *Manager) probe(ctx context.Context, uid types.UID, t Target, k Kind, p *v1.Probe, st *state) {
	ok, msg := m.runner.run(ctx, t, p)
	m.mu.Lock()
	kill := false
	if ok {
		st.successes, st.failures = st.successes+1, 0
		if st.successes >= int(max(p.SuccessThreshold, 1)) {
			st.result, st.hasResult = true, true
		}
	} else {
		st.failures, st.successes = st.failures+1, 0
		if st.failures >= int(max(p.FailureThreshold, 1)) {
			st.result, st.hasResult = false, true
			if k != Readiness && !st.killIssued {
				st.killIssued, kill = true, true
			}
		}
	}
	m.mu.Unlock()
	if !ok {
		if m.recorder != nil {
			m.recorder.Eventf(t.Pod, v1.EventTypeWarning, "Unhealthy", "%s probe failed: %s", k, msg)
		}
		m.logger.Debug("probe failed", "pod", t.Pod.Namespace+"/"+t.Pod.Name, "container", t.Container.Name, "probe", k, "msg", msg)
	}
	if kill {
		reason := "failed liveness probe"
		if k == Startup {
			reason = "failed startup probe"
		}
		m.kill(ctx, t, reason)
	}
	m.mu.Lock()
	st.inFlight = false // only now: a probe's effects are done when it is no longer in flight
	m.mu.Unlock()
}

func (m *Manager) startedLocked(states map[string]*state, id string, c *v1.Container) bool {
	if c.StartupProbe == nil {
		return true
	}
	st := states[id+"/"+string(Startup)]
	return st != nil && st.hasResult && st.result
}

// Started reports whether a running container passed its startup probe
// (true without one).
func (m *Manager) Started(uid types.UID, id string, c *v1.Container) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.startedLocked(m.states[uid], id, c)
}

// Ready reports whether a running container is ready: started, and passing
// its readiness probe (true without one; false until its first success).
func (m *Manager) Ready(uid types.UID, id string, c *v1.Container) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.startedLocked(m.states[uid], id, c) {
		return false
	}
	if c.ReadinessProbe == nil {
		return true
	}
	st := m.states[uid][id+"/"+string(Readiness)]
	return st != nil && st.hasResult && st.result
}

// Forget drops a pod's probe state.
func (m *Manager) Forget(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.states, uid)
}
