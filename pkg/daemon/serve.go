package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// SecureServingOptions are upstream's secure-serving flags of the
// control-plane daemons (kube-scheduler, kube-controller-manager).
type SecureServingOptions struct {
	BindAddress       string
	SecurePort        int
	CertDir           string
	TLSCertFile       string
	TLSPrivateKeyFile string
	// PairName names the self-signed pair kept in CertDir
	// (<PairName>.crt/.key), as upstream: the component's name.
	PairName string
}

// NewSecureServingOptions returns upstream's defaults: all interfaces on
// port, self-signed as pairName.
func NewSecureServingOptions(port int, pairName string) SecureServingOptions {
	return SecureServingOptions{BindAddress: "0.0.0.0", SecurePort: port, PairName: pairName}
}

// AddFlags registers --bind-address, --secure-port, --cert-dir,
// --tls-cert-file and --tls-private-key-file.
func (o *SecureServingOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.BindAddress, "bind-address", o.BindAddress, "The IP address on which to listen for the --secure-port port.")
	fs.IntVar(&o.SecurePort, "secure-port", o.SecurePort, "The port on which to serve HTTPS with authentication and authorization. If 0, don't serve HTTPS at all.")
	fs.StringVar(&o.CertDir, "cert-dir", o.CertDir, "The directory where the TLS certs are located. If --tls-cert-file and --tls-private-key-file are provided, this flag will be ignored.")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "File containing the default x509 Certificate for HTTPS.")
	fs.StringVar(&o.TLSPrivateKeyFile, "tls-private-key-file", o.TLSPrivateKeyFile, "File containing the default x509 private key matching --tls-cert-file.")
}

// Validate checks the port and address.
func (o *SecureServingOptions) Validate() error {
	var errs []error
	if o.SecurePort < 0 || o.SecurePort > 65535 {
		errs = append(errs, fmt.Errorf("--secure-port %d must be between 0 and 65535", o.SecurePort))
	}
	if o.SecurePort > 0 && net.ParseIP(o.BindAddress) == nil {
		errs = append(errs, fmt.Errorf("--bind-address %q is not an IP address", o.BindAddress))
	}
	if (o.TLSCertFile == "") != (o.TLSPrivateKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-private-key-file go together"))
	}
	return errors.Join(errs...)
}

// Address is --bind-address:--secure-port.
func (o *SecureServingOptions) Address() string {
	return net.JoinHostPort(o.BindAddress, strconv.Itoa(o.SecurePort))
}

// Certificate loads --tls-cert-file/--tls-private-key-file, or, as
// upstream, makes a self-signed certificate for localhost and 127.0.0.1,
// kept in --cert-dir as <PairName>.crt/.key when that is set (and made
// again at every start when it is not).
func (o *SecureServingOptions) Certificate() (tls.Certificate, error) {
	if o.TLSCertFile != "" || o.TLSPrivateKeyFile != "" {
		c, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSPrivateKeyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("loading --tls-cert-file: %w", err)
		}
		return c, nil
	}
	hosts := []string{"localhost", "127.0.0.1"}
	var kp *pki.KeyPair
	var err error
	if o.CertDir != "" {
		name := o.PairName
		if name == "" {
			name = "serving"
		}
		kp, err = pki.LoadOrCreateSelfSigned(filepath.Join(o.CertDir, name+".crt"), filepath.Join(o.CertDir, name+".key"), pki.Options{}, hosts...)
	} else {
		kp, err = pki.SelfSignedServing(pki.Options{}, hosts...)
	}
	if err != nil {
		return tls.Certificate{}, err
	}
	return kp.TLSCertificate(), nil
}

// Serve serves e over HTTPS on Address until ctx ends and returns the
// address it listens on; with --secure-port 0 it serves nothing and
// returns nil. The certificate is loaded and the listener opened before
// Serve returns, so their errors are Serve's.
func (o *SecureServingOptions) Serve(ctx context.Context, e Endpoints, logger *slog.Logger) (net.Addr, error) {
	if o.SecurePort == 0 {
		return nil, nil
	}
	cert, err := o.Certificate()
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	if e.Wrap != nil {
		tlsConfig.ClientAuth = tls.RequestClientCert // verified by the authentication behind Wrap
	}
	addr, _, err := ServeTLS(ctx, o.Address(), tlsConfig, e.Handler(), logger)
	return addr, err
}

// ServeShutdownTimeout bounds how long ServeTLS waits for requests in
// flight once its context has ended.
const ServeShutdownTimeout = 5 * time.Second

// ServeTLS serves h with tlsConfig on addr until ctx ends. It listens
// before returning (a bind error is its error) and returns the address
// bound and a channel that receives nil once the server has shut down
// after ctx ended (waiting at most ServeShutdownTimeout for requests in
// flight), or the error that stopped it early.
func ServeTLS(ctx context.Context, addr string, tlsConfig *tls.Config, h http.Handler, logger *slog.Logger) (net.Addr, <-chan error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, TLSConfig: tlsConfig, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	done := make(chan error, 2) // both goroutines may send when an error races ctx's end
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), ServeShutdownTimeout)
		defer cancel()
		done <- srv.Shutdown(sctx)
	}()
	go func() {
		err := srv.ServeTLS(ln, "", "")
		if !errors.Is(err, http.ErrServerClosed) {
			logger.Error("secure serving stopped", "address", ln.Addr().String(), "err", err)
			close(stopped)
			done <- err
		}
	}()
	logger.Info("serving securely", "address", ln.Addr().String())
	return ln.Addr(), done, nil
}
