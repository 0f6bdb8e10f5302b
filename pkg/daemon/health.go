package daemon

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HealthCheck is one named check of /healthz, /livez or /readyz.
type HealthCheck struct {
	// Name is the check's name in the verbose output and its own path
	// (/livez/<name>); upstream's names are used where they exist
	// ("ping", "leaderElection", "sched-handler-sync"…).
	Name string
	// Check returns nil when healthy. It must be safe for concurrent use
	// and return quickly: it runs on every probe.
	Check func(*http.Request) error
}

// Endpoints are the health and metrics endpoints of a daemon's secure port.
type Endpoints struct {
	// Live are the checks of /healthz and /livez, after "ping" (which
	// always passes and comes first, as upstream).
	Live []HealthCheck
	// Ready are the checks /readyz adds to ping and Live.
	Ready []HealthCheck
	// Metrics serves /metrics; nil means a registry with the Go runtime
	// and process collectors only.
	Metrics http.Handler
	// Wrap, when set, puts every endpoint behind it: the delegated
	// authentication and authorization (delegated.Filter.Wrap). Serve then
	// asks clients for a certificate (without requiring one).
	Wrap func(http.Handler) http.Handler
}

// Handler returns a mux serving /healthz, /livez and /readyz (each also
// as /<path>/<check name> for a single check) and /metrics.
func (e Endpoints) Handler() http.Handler {
	ping := HealthCheck{Name: "ping", Check: func(*http.Request) error { return nil }}
	live := append([]HealthCheck{ping}, e.Live...)
	ready := append(append([]HealthCheck(nil), live...), e.Ready...)
	mux := http.NewServeMux()
	for path, checks := range map[string][]HealthCheck{"/healthz": live, "/livez": live, "/readyz": ready} {
		mux.Handle(path, HealthHandler(path, checks))
		for _, c := range checks {
			mux.Handle(path+"/"+c.Name, HealthHandler(path+"/"+c.Name, []HealthCheck{c}))
		}
	}
	metrics := e.Metrics
	if metrics == nil {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	}
	mux.Handle("/metrics", metrics)
	if e.Wrap != nil {
		return e.Wrap(mux)
	}
	return mux
}

// HealthHandler answers like upstream's healthz package: "ok" when every
// check passes (with ?verbose, a "[+]name ok" line per check and "<path>
// check passed"); otherwise 500 with a "[+]name ok" or "[-]name failed:
// reason withheld" line per check and "<path> check failed". Checks named
// in ?exclude= are skipped.
func HealthHandler(path string, checks []HealthCheck) http.HandlerFunc {
	name := strings.TrimPrefix(path, "/")
	return func(w http.ResponseWriter, r *http.Request) {
		excluded := map[string]bool{}
		for _, e := range r.URL.Query()["exclude"] {
			excluded[e] = true
		}
		var b strings.Builder
		failed := false
		for _, c := range checks {
			if excluded[c.Name] {
				fmt.Fprintf(&b, "[+]%s excluded: ok\n", c.Name)
				continue
			}
			if err := c.Check(r); err != nil {
				failed = true
				fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.Name)
			} else {
				fmt.Fprintf(&b, "[+]%s ok\n", c.Name)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if failed {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "%s%s check failed\n", b.String(), name)
			return
		}
		if _, verbose := r.URL.Query()["verbose"]; verbose {
			fmt.Fprintf(w, "%s%s check passed\n", b.String(), name)
			return
		}
		fmt.Fprint(w, "ok")
	}
}
