package manager

import (
	"fmt"
	"net/http"
	"sync"

	"k8s.io/client-go/tools/leaderelection"

	"github.com/kinc-dev/kinc/pkg/daemon"
)

// controllerHealth backs one /healthz check per controller the manager may
// run, named by its canonical name as upstream's checks are. A check
// passes unless its controller's Run failed (returned an error while the
// manager was running); upstream's checks are plain pings, added once the
// controller started. Safe for concurrent use.
type controllerHealth struct {
	mu     sync.Mutex
	failed map[string]error
}

func newControllerHealth() *controllerHealth {
	return &controllerHealth{failed: map[string]error{}}
}

// fail marks name's controller as failed with err.
func (h *controllerHealth) fail(name string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed[name] = err
}

// check returns the health check of name's controller.
func (h *controllerHealth) check(name string) daemon.HealthCheck {
	return daemon.HealthCheck{Name: name, Check: func(*http.Request) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if err := h.failed[name]; err != nil {
			return fmt.Errorf("controller %s stopped: %w", name, err)
		}
		return nil
	}}
}

// endpoints are the secure port's: /healthz and /livez check ping, the
// leader election watchdog (when electing) and every enabled controller
// kinc implements; /readyz the same; /metrics the Go and process metrics.
func (m *manager) endpoints(watchdog *leaderelection.HealthzAdaptor) daemon.Endpoints {
	var e daemon.Endpoints
	if watchdog != nil {
		e.Live = append(e.Live, daemon.LeaderHealthCheck(watchdog))
	}
	for _, d := range m.enabled {
		if d.New != nil {
			e.Live = append(e.Live, m.health.check(d.Name))
		}
	}
	return e
}
