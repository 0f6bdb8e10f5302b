package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// healthCheck is one named check of /healthz, /livez or /readyz.
type healthCheck struct {
	name  string
	check func(*http.Request) error
}

// healthHandler answers like upstream's healthz: "ok", or with ?verbose a
// "[+]name ok" line per check; 500 listing "[-]name failed" on failure.
func healthHandler(path string, checks []healthCheck) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		failed := false
		for _, c := range checks {
			if err := c.check(r); err != nil {
				failed = true
				fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.name)
			} else {
				fmt.Fprintf(&b, "[+]%s ok\n", c.name)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if failed {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "%s%s check failed\n", b.String(), strings.TrimPrefix(path, "/"))
			return
		}
		if _, verbose := r.URL.Query()["verbose"]; verbose {
			fmt.Fprintf(w, "%s%s check passed\n", b.String(), strings.TrimPrefix(path, "/"))
			return
		}
		fmt.Fprint(w, "ok")
	}
}

// serveSecure serves mux over HTTPS on addr until ctx ends. The listener
// is opened before serveSecure returns, so a bind error is reported.
func serveSecure(ctx context.Context, logger *slog.Logger, addr string, cert tls.Certificate, mux http.Handler) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("secure serving stopped", "err", err)
		}
	}()
	logger.Info("serving securely", "address", ln.Addr().String())
	return ln.Addr(), nil
}

// servingCert loads --tls-cert-file/--tls-private-key-file, or, as
// upstream, makes a self-signed certificate for localhost (kept in
// --cert-dir as kube-scheduler.crt/.key when that is set).
func servingCert(o *Options) (tls.Certificate, error) {
	if o.TLSCertFile != "" || o.TLSPrivateKeyFile != "" {
		return tls.LoadX509KeyPair(o.TLSCertFile, o.TLSPrivateKeyFile)
	}
	if o.CertDir != "" {
		crt, key := filepath.Join(o.CertDir, "kube-scheduler.crt"), filepath.Join(o.CertDir, "kube-scheduler.key")
		if c, err := tls.LoadX509KeyPair(crt, key); err == nil {
			return c, nil
		}
		certPEM, keyPEM, err := selfSigned()
		if err != nil {
			return tls.Certificate{}, err
		}
		if err := os.MkdirAll(o.CertDir, 0o700); err != nil {
			return tls.Certificate{}, err
		}
		if err := os.WriteFile(crt, certPEM, 0o644); err != nil {
			return tls.Certificate{}, err
		}
		if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
			return tls.Certificate{}, err
		}
		return tls.X509KeyPair(certPEM, keyPEM)
	}
	certPEM, keyPEM, err := selfSigned()
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

func selfSigned() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "localhost@" + strconv.FormatInt(now.Unix(), 10)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), nil
}
