package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"runtime"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"github.com/kinc-dev/kinc/pkg/apiserver/filters"
	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/serviceaccount"
	kincversion "github.com/kinc-dev/kinc/pkg/version"
)

type router struct {
	api       *handlers.API
	discovery *handlers.Discovery
	ready     func(context.Context) error
	openapi   http.Handler // nil: 404
	oidc      http.Handler // service-account issuer discovery; nil: 404
	profiling bool
	log       *slog.Logger
}

func newRouter(api *handlers.API, d *handlers.Discovery, ready func(context.Context) error, log *slog.Logger) *router {
	return &router{api: api, discovery: d, ready: ready, log: log}
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, _ := filters.RequestInfoFrom(r.Context())
	p := r.URL.Path
	switch {
	case info.IsResourceRequest:
		rt.api.ServeResource(w, r, info)
	case p == "/healthz" || p == "/livez" || strings.HasPrefix(p, "/healthz/") || strings.HasPrefix(p, "/livez/"):
		writeText(w, http.StatusOK, "ok")
	case p == "/readyz" || strings.HasPrefix(p, "/readyz/"):
		if err := rt.ready(r.Context()); err != nil {
			rt.log.Debug("readyz failed", "err", err)
			writeText(w, http.StatusInternalServerError, "[-]"+err.Error()+"\nreadyz check failed")
			return
		}
		writeText(w, http.StatusOK, "ok")
	case p == "/version":
		writeVersion(w)
	case p == "/api" || p == "/api/":
		rt.discovery.ServeRoot(w, r, true)
	case p == "/apis" || p == "/apis/":
		rt.discovery.ServeRoot(w, r, false)
	case info.APIPrefix == "api" && info.APIVersion != "":
		if !rt.discovery.ServeGroupVersion(w, schema.GroupVersion{Version: info.APIVersion}) {
			http.NotFound(w, r)
		}
	case info.APIPrefix == "apis" && info.APIVersion != "":
		if !rt.discovery.ServeGroupVersion(w, schema.GroupVersion{Group: info.APIGroup, Version: info.APIVersion}) {
			http.NotFound(w, r)
		}
	case info.APIPrefix == "apis" && info.APIGroup != "":
		if !rt.discovery.ServeGroup(w, info.APIGroup) {
			http.NotFound(w, r)
		}
	case rt.profiling && strings.HasPrefix(p, "/debug/pprof"):
		servePprof(w, r)
	case (p == serviceaccount.OpenIDConfigPath || p == serviceaccount.JWKSPath) && rt.oidc != nil:
		rt.oidc.ServeHTTP(w, r)
	case strings.HasPrefix(p, "/openapi/") && rt.openapi != nil:
		rt.openapi.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func writeText(w http.ResponseWriter, code int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(s))
}

// writeVersion serves /version: the Kubernetes API level kinc implements,
// with kinc's own version as build metadata.
func writeVersion(w http.ResponseWriter) {
	kv := kincversion.KubernetesVersion
	parts := strings.SplitN(strings.TrimPrefix(kv, "v"), ".", 3)
	info := version.Info{Major: parts[0], Minor: parts[1], GitVersion: serverGitVersion(kv, kincversion.Version()),
		GitCommit: kincversion.Get().GitCommit, GitTreeState: "clean", GoVersion: runtime.Version(), Compiler: runtime.Compiler,
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	handlers.WriteJSON(w, http.StatusOK, info)
}

// serverGitVersion is the gitVersion /version reports: the Kubernetes
// version kinc implements with kinc's own version as semver build metadata,
// e.g. v1.37.2+kinc.0.1.0-alpha.09705da. Build metadata is dot-separated
// [0-9A-Za-z-] identifiers, so kinc's own "+<commit>" becomes ".<commit>":
// a second "+" makes every kubectl print "could not parse pre-release/metadata".
func serverGitVersion(kubernetesVersion, kincVersion string) string {
	meta := strings.ReplaceAll(strings.TrimPrefix(kincVersion, "v"), "+", ".")
	return kubernetesVersion + "+kinc." + meta
}

// servePprof serves Go's profiles under /debug/pprof/ (--profiling).
func servePprof(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "profile":
		pprof.Profile(w, r)
	case "trace":
		pprof.Trace(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "cmdline":
		pprof.Cmdline(w, r)
	default:
		pprof.Index(w, r)
	}
}
