// Package server is the kubelet API on :10250: HTTPS behind the
// KubeletConfiguration's authentication (client certificates, TokenReview
// of bearer tokens, anonymous) and authorization (SubjectAccessReview of
// nodes/<subresource>, or AlwaysAllow) (auth.go), serving /healthz, /pods,
// /containerLogs/<namespace>/<pod>/<container> from the CRI log files, and
// the streaming endpoints /exec, /attach, /portForward (the runtime's
// streaming sessions, proxied) and /run (CRI ExecSync).
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ErrNotFound is returned by a Provider for an unknown pod or container.
var ErrNotFound = errors.New("server: not found")

// Provider is what the API serves. Implementations are safe for concurrent use.
type Provider interface {
	// Pods returns the pods bound to this node, with their current status.
	Pods() []*v1.Pod
	// ContainerLog returns the CRI log file of a pod's container (the
	// attempt before the current one when previous), and a function that
	// reports whether that container is still running. ErrNotFound (wrapped)
	// when there is no such pod, container or attempt.
	ContainerLog(ctx context.Context, namespace, pod, container string, previous bool) (path string, running func() bool, err error)
	// PodLookup finds the pods and containers the streaming endpoints reach into.
	PodLookup
}

// NewHandler returns the kubelet API's HTTP handler; rt serves the
// streaming endpoints.
func NewHandler(p Provider, rt Runtime, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("GET /pods", func(w http.ResponseWriter, _ *http.Request) {
		list := &v1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}}
		for _, pod := range p.Pods() {
			list.Items = append(list.Items, *pod)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	})
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", func(w http.ResponseWriter, r *http.Request) {
		serveLogs(w, r, p, logger)
	})
	s := &streamer{p: p, rt: rt, logger: logger}
	for _, method := range []string{"GET", "POST"} {
		for _, path := range []string{"/{namespace}/{pod}/{container}", "/{namespace}/{pod}/{uid}/{container}"} {
			mux.HandleFunc(method+" /exec"+path, s.serveExec)
			mux.HandleFunc(method+" /attach"+path, s.serveAttach)
		}
		for _, path := range []string{"/{namespace}/{pod}", "/{namespace}/{pod}/{uid}"} {
			mux.HandleFunc(method+" /portForward"+path, s.servePortForward)
		}
	}
	mux.HandleFunc("POST /run/{namespace}/{pod}/{container}", s.serveRun)
	mux.HandleFunc("POST /run/{namespace}/{pod}/{uid}/{container}", s.serveRun)
	return mux
}

func serveLogs(w http.ResponseWriter, r *http.Request, p Provider, logger *slog.Logger) {
	q := r.URL.Query()
	opts := LogOptions{Follow: q.Get("follow") == "true", Timestamps: q.Get("timestamps") == "true"}
	var err error
	if opts.TailLines, err = parseInt(q.Get("tailLines")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if opts.LimitBytes, err = parseInt(q.Get("limitBytes")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s := q.Get("sinceSeconds"); s != "" {
		n, err := parseInt(s)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		opts.Since = time.Now().Add(-time.Duration(*n) * time.Second)
	}
	if s := q.Get("sinceTime"); s != "" {
		if opts.Since, err = time.Parse(time.RFC3339, s); err != nil {
			http.Error(w, "invalid sinceTime", http.StatusBadRequest)
			return
		}
	}
	ns, pod, container := r.PathValue("namespace"), r.PathValue("pod"), r.PathValue("container")
	path, running, err := p.ContainerLog(r.Context(), ns, pod, container, q.Get("previous") == "true")
	if errors.Is(err, ErrNotFound) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fw := &flushWriter{w: w}
	if f, ok := w.(http.Flusher); ok {
		fw.f = f
	}
	if err := WriteLogs(r.Context(), path, opts, fw, running); err != nil {
		if os.IsNotExist(err) {
			http.Error(w, "log file not found", http.StatusNotFound)
			return
		}
		logger.Warn("serving container logs", "pod", ns+"/"+pod, "container", container, "err", err)
	}
}

type flushWriter struct {
	w http.ResponseWriter
	f http.Flusher
}

func (f *flushWriter) Write(p []byte) (int, error) { return f.w.Write(p) }

func (f *flushWriter) Flush() {
	if f.f != nil {
		f.f.Flush()
	}
}

// TLSConfig is the kubelet API's TLS: the serving pair, asking clients
// for a certificate without requiring or verifying one there: the Auth
// filter verifies it against the client CA (a certificate from another CA
// is a 401, as upstream, and a bearer token needs none).
func TLSConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load kubelet serving certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}, nil
}

// Serve serves h with tlsConfig on addr until ctx ends.
func Serve(ctx context.Context, addr string, tlsConfig *tls.Config, h http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("kubelet API: %w", err)
	}
	srv := &http.Server{Handler: h, TLSConfig: tlsConfig, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	logger.Info("kubelet API listening", "addr", ln.Addr().String())
	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// HostPort joins an address and port ("0.0.0.0", 10250 → "0.0.0.0:10250").
func HostPort(address string, port int32) string {
	return net.JoinHostPort(strings.Trim(address, "[]"), fmt.Sprint(port))
}
