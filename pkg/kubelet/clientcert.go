package kubelet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/kubelet/certificate"
)

// bootstrap runs the TLS bootstrap when --bootstrap-kubeconfig is set
// (upstream's: before anything else, so --kubeconfig exists afterwards).
// A bootstrap kubeconfig that does not exist is skipped: kinc's systemd
// drop-in names one on every node, as kubeadm's, while kinc writes
// kubelet.conf itself.
func bootstrap(ctx context.Context, opts *Options, nodeName string, logger *slog.Logger) error {
	if opts.BootstrapKubeconfig == "" || opts.Kubeconfig == "" {
		return nil
	}
	if _, err := os.Stat(opts.BootstrapKubeconfig); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	err := certificate.Bootstrap{Kubeconfig: opts.Kubeconfig, BootstrapKubeconfig: opts.BootstrapKubeconfig,
		CertDir: opts.CertDirectory, NodeName: nodeName, Logger: logger}.Run(ctx)
	if err != nil {
		return fmt.Errorf("TLS bootstrap: %w", err)
	}
	return nil
}

// rotateClientCertificate makes restCfg (the kubeconfig's, not yet used)
// follow a certificate Manager over --cert-dir whose first pair is the
// kubeconfig's (rotateCertificates). It returns the Manager's loop, or nil
// when the kubeconfig has no client certificate to rotate.
func rotateClientCertificate(restCfg *rest.Config, certDir, nodeName string, c clock.Clock, logger *slog.Logger) (func(context.Context) error, error) {
	if err := rest.LoadTLSFiles(restCfg); err != nil {
		return nil, err
	}
	store := &certificate.Store{Dir: certDir, CertFile: restCfg.CertFile, KeyFile: restCfg.KeyFile,
		CertData: restCfg.CertData, KeyData: restCfg.KeyData, Clock: c}
	var m *certificate.Manager
	closeAll, err := certificate.Transport(restCfg, func() *tls.Certificate { return m.Current() })
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	m, err = certificate.NewManager(certificate.ManagerConfig{NodeName: nodeName, Store: store, Client: client, Clock: c,
		OnRotate: closeAll, Logger: logger.With("component", "certificate-manager")})
	if errors.Is(err, certificate.ErrNoCertificate) {
		return nil, errors.New("rotateCertificates: the kubeconfig has no client certificate")
	}
	if err != nil {
		return nil, err
	}
	return m.Run, nil
}
