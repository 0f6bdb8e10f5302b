package kubelet

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// TestRotateClientCertificate: with rotateCertificates, a kubeconfig's
// embedded pair becomes the manager's first certificate and the config is
// switched to the rotating transport; a kubeconfig without a client
// certificate is refused.
func TestRotateClientCertificate(t *testing.T) {
	t.Parallel()
	ca, err := pki.NewCA("kubernetes", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.Issue(pki.ClientSpec("system:node:worker", "system:nodes"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := &rest.Config{Host: "https://127.0.0.1:6443", TLSClientConfig: rest.TLSClientConfig{CAData: ca.CertPEM, CertData: kp.CertPEM, KeyData: kp.KeyPEM}}
	run, err := rotateClientCertificate(cfg, filepath.Join(t.TempDir(), "pki"), "worker", clock.RealClock{}, logger)
	if err != nil || run == nil {
		t.Fatalf("rotateClientCertificate: %v", err)
	}
	if cfg.Transport == nil || len(cfg.CertData) != 0 || len(cfg.CAData) != 0 {
		t.Errorf("config not switched to the rotating transport: %+v", cfg.TLSClientConfig)
	}
	token := &rest.Config{Host: "https://127.0.0.1:6443", BearerToken: "x", TLSClientConfig: rest.TLSClientConfig{CAData: ca.CertPEM}}
	if _, err := rotateClientCertificate(token, filepath.Join(t.TempDir(), "pki"), "worker", clock.RealClock{}, logger); err == nil ||
		!strings.Contains(err.Error(), "no client certificate") {
		t.Errorf("token kubeconfig: %v", err)
	}
}
