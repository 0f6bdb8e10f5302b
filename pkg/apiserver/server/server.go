package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/filters"
	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/etcd3"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// Server is a configured apiserver, ready to Serve.
type Server struct {
	opts    *Options
	log     *slog.Logger
	etcd    *clientv3.Client
	handler http.Handler
	stores  *storeSet
	// auth is what the resources see of the server's authentication and
	// authorization (registry.Deps.Auth), filled in once both exist.
	auth     *registry.Auth
	tls      *tls.Config
	clock    clock.WithTicker
	stopFunc []func()
	// bootstrapped is set once the system namespaces and the kubernetes
	// service exist; /readyz fails until then.
	bootstrapped atomic.Bool
}

// New connects to etcd and builds the server. Nothing listens until Serve.
func New(opts *Options, log *slog.Logger) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	tlsConfig, clientCAs, err := servingTLS(opts)
	if err != nil {
		return nil, err
	}
	etcd, err := newEtcdClient(opts)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: log, etcd: etcd, tls: tlsConfig, clock: clock.RealClock{}, auth: &registry.Auth{}}
	s.stores, err = newStoreSet(opts, etcd, s.clock, s.auth, log)
	if err != nil {
		etcd.Close()
		return nil, err
	}
	s.stopFunc = append(s.stopFunc, s.stores.stop)

	authentication, err := newAuthentication(opts, tlsConfig, clientCAs, s.stores.lookup, s.clock, log)
	if err != nil {
		s.Close()
		return nil, err
	}
	authentication.fill(s.auth, opts)
	authorizer, err := s.newAuthorizer()
	if err != nil {
		s.Close()
		return nil, err
	}

	api := handlers.NewAPI(s.stores.resources, scheme.Scheme, printers.NewDefault(printers.WithScheme(scheme.Scheme), printers.WithPrinters(s.stores.tables()...)), s.clock, log)
	chain, err := newAdmission(opts, registry.Deps{Stores: s.stores.lookup, Clock: s.clock, Auth: s.auth}, log)
	if err != nil {
		s.Close()
		return nil, err
	}
	api.SetAdmission(chain)
	advertise := net.JoinHostPort(s.advertiseAddress(), strconv.Itoa(opts.SecurePort))
	mux := newRouter(api, handlers.NewDiscovery(s.stores.resources, advertise), s.readyz, log)
	mux.profiling = opts.Profiling
	mux.oidc = authentication.oidc
	if mux.openapi, err = newOpenAPI(s.stores.descriptors); err != nil {
		s.Close()
		return nil, fmt.Errorf("building the OpenAPI documents: %w", err)
	}
	auditing, err := newAuditing(opts, s.clock, log)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.stopFunc = append(s.stopFunc, auditing.close)
	var h http.Handler = mux
	h = filters.WithAuthorization(h, authorizer, log)
	h = filters.WithMaxInFlight(h, opts.MaxRequestsInflight, opts.MaxMutatingRequestsInflight)
	h = filters.WithRequestLog(h, log)
	h = filters.WithImpersonation(h, authorizer, log)
	h = filters.WithAudit(h, auditing.policy, auditing.sink(), s.clock, log)
	h = filters.WithAuthentication(h, authentication.request, anonymousAuth(opts), log)
	h = filters.WithFailedAuthenticationAudit(h, auditing.policy, auditing.sink(), s.clock, log)
	h = filters.WithRequestInfo(h)
	h = filters.WithAuditID(h)
	h = filters.WithPanicRecovery(h, log)
	s.handler = h
	return s, nil
}

// Handler returns the server's HTTP handler (for tests).
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases etcd and the watch caches.
func (s *Server) Close() {
	for _, f := range s.stopFunc {
		f()
	}
	s.etcd.Close()
}

func (s *Server) advertiseAddress() string {
	if s.opts.AdvertiseAddress != "" {
		return s.opts.AdvertiseAddress
	}
	return s.opts.BindAddress
}

// Run builds the server and serves until ctx ends.
func Run(ctx context.Context, opts *Options, log *slog.Logger) error {
	s, err := New(opts, log)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Serve(ctx)
}

// Serve listens on --bind-address:--secure-port and serves until ctx ends;
// it also runs the bootstrap controller and the etcd compactor.
func (s *Server) Serve(ctx context.Context) error {
	addr := net.JoinHostPort(s.opts.BindAddress, strconv.Itoa(s.opts.SecurePort))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s.handler, TLSConfig: s.tls, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go etcd3.NewCompactor(s.etcd, s.opts.EtcdCompactionInterval, s.clock, s.log).Run(ctx)
	go s.runBootstrap(ctx)

	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	s.log.Info("serving securely", "address", addr)
	select {
	case <-ctx.Done():
		shutdownCtx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(shutdownCtx)
		return nil
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}

// readyz checks that etcd answers and the bootstrap objects exist.
func (s *Server) readyz(ctx context.Context) error {
	if !s.bootstrapped.Load() {
		return errors.New("bootstrap-controller: system namespaces not created yet")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := s.etcd.Get(ctx, "health", clientv3.WithSerializable())
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	return nil
}

func servingTLS(opts *Options) (*tls.Config, *x509.CertPool, error) {
	cert, err := tls.LoadX509KeyPair(opts.TLSCertFile, opts.TLSPrivateKeyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("loading serving certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	var pool *x509.CertPool
	if opts.ClientCAFile != "" {
		if pool, err = pki.CertPoolFromFile(opts.ClientCAFile); err != nil {
			return nil, nil, fmt.Errorf("--client-ca-file: %w", err)
		}
		// Requested, not verified in the handshake: the authenticators
		// verify them, so a certificate of another CA is a 401 (as
		// upstream), not a failed handshake. ClientCAs only name the
		// acceptable CAs to the client.
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequestClientCert
	}
	return cfg, pool, nil
}

func newEtcdClient(opts *Options) (*clientv3.Client, error) {
	cfg := clientv3.Config{Endpoints: opts.EtcdServers, DialTimeout: 20 * time.Second,
		DialKeepAliveTime: 30 * time.Second, DialKeepAliveTimeout: 10 * time.Second,
		MaxCallSendMsgSize: 4 * 1024 * 1024, MaxCallRecvMsgSize: 512 * 1024 * 1024}
	if opts.EtcdCAFile != "" || opts.EtcdCertFile != "" {
		t := &tls.Config{MinVersion: tls.VersionTLS12}
		if opts.EtcdCAFile != "" {
			pool, err := pki.CertPoolFromFile(opts.EtcdCAFile)
			if err != nil {
				return nil, fmt.Errorf("--etcd-cafile: %w", err)
			}
			t.RootCAs = pool
		}
		if opts.EtcdCertFile != "" {
			c, err := tls.LoadX509KeyPair(opts.EtcdCertFile, opts.EtcdKeyFile)
			if err != nil {
				return nil, fmt.Errorf("loading etcd client certificate: %w", err)
			}
			t.Certificates = []tls.Certificate{c}
		}
		cfg.TLS = t
	}
	c, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %v: %w", opts.EtcdServers, err)
	}
	return c, nil
}
