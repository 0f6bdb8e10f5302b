package certificate

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/clock"
)

// BootstrapTimeout is how long Bootstrap waits for its request to be
// approved and signed (upstream's hour).
const BootstrapTimeout = time.Hour

// Bootstrap is upstream's kubelet TLS bootstrap (bootstrap.LoadClientCert).
type Bootstrap struct {
	// Kubeconfig is --kubeconfig: written when it is missing or its client
	// certificate is expired or unreadable.
	Kubeconfig string
	// BootstrapKubeconfig is --bootstrap-kubeconfig: the credentials the
	// request is made with (a bootstrap token, system:bootstrappers).
	BootstrapKubeconfig string
	// CertDir is --cert-dir.
	CertDir  string
	NodeName string
	// NewClient builds the bootstrap client; nil means kubernetes.NewForConfig.
	NewClient func(*rest.Config) (kubernetes.Interface, error)
	// Clock is the time certificates are checked against; nil: real.
	Clock  clock.Clock
	Logger *slog.Logger
}

// Run makes sure Kubeconfig holds valid node credentials: it returns
// at once when they are valid (or are not a client certificate); else it
// takes a valid pair already in CertDir, or requests one as NodeName with
// the bootstrap credentials (a new ECDSA P-256 key, kept in
// kubelet-client.key.tmp until issued, so a restart reuses the request),
// and writes Kubeconfig pointing at kubelet-client-current.pem with the
// bootstrap kubeconfig's server and CA.
func (b Bootstrap) Run(ctx context.Context) error {
	c := b.Clock
	if c == nil {
		c = clock.RealClock{}
	}
	logger := b.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if valid, err := kubeconfigValid(b.Kubeconfig, c.Now()); valid {
		return nil
	} else if err != nil {
		logger.Info("kubeconfig credentials are not usable, bootstrapping", "kubeconfig", b.Kubeconfig, "reason", err.Error())
	}
	bootCfg, err := clientcmd.BuildConfigFromFlags("", b.BootstrapKubeconfig)
	if err != nil {
		return fmt.Errorf("load bootstrap kubeconfig: %w", err)
	}
	store := &Store{Dir: b.CertDir, Clock: c}
	if pair, err := store.Current(); err == nil && within(pair.Leaf, c.Now()) {
		logger.Info("using the current client certificate", "file", store.CurrentPath())
		return writeKubeconfig(b.Kubeconfig, bootCfg, store.CurrentPath())
	}
	if err := os.MkdirAll(b.CertDir, 0o755); err != nil {
		return err
	}
	key, keyPEM, err := loadOrCreatePendingKey(store.pendingKeyPath())
	if err != nil {
		return err
	}
	newClient := b.NewClient
	if newClient == nil {
		newClient = func(cfg *rest.Config) (kubernetes.Interface, error) { return kubernetes.NewForConfig(cfg) }
	}
	client, err := newClient(bootCfg)
	if err != nil {
		return err
	}
	name, err := digestedName(key.Public(), Subject(b.NodeName), usagesFor(key))
	if err != nil {
		return err
	}
	logger.Info("requesting the node's client certificate", "csr", name)
	certPEM, err := requester{client: client, clock: c}.request(ctx, key, b.NodeName, name, BootstrapTimeout)
	if err != nil {
		return err
	}
	if _, err := store.Update(certPEM, keyPEM); err != nil {
		return err
	}
	_ = os.Remove(store.pendingKeyPath())
	logger.Info("client certificate issued", "file", store.CurrentPath())
	return writeKubeconfig(b.Kubeconfig, bootCfg, store.CurrentPath())
}

// kubeconfigValid reports whether path's credentials can be used at now:
// a client certificate within its validity, or none at all (a token).
// The error says why not.
func kubeconfigValid(path string, now time.Time) (bool, error) {
	if _, err := os.Stat(path); err != nil {
		return false, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return false, err
	}
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return false, err
	}
	if len(cfg.CertData) == 0 {
		return true, nil
	}
	pair, err := parsePair(cfg.CertData, cfg.KeyData)
	if err != nil {
		return false, err
	}
	if !within(pair.Leaf, now) {
		return false, fmt.Errorf("client certificate is valid from %s to %s", pair.Leaf.NotBefore, pair.Leaf.NotAfter)
	}
	return true, nil
}

// within reports whether now is in cert's validity.
func within(cert *x509.Certificate, now time.Time) bool {
	return cert != nil && !now.Before(cert.NotBefore) && !now.After(cert.NotAfter)
}

// writeKubeconfig writes kubeadm's kubelet.conf after join: server and CA
// of boot, the user's certificate and key both certFile.
func writeKubeconfig(path string, boot *rest.Config, certFile string) error {
	if err := rest.LoadTLSFiles(boot); err != nil {
		return err
	}
	if len(boot.CAData) == 0 && !boot.Insecure {
		return errors.New("bootstrap kubeconfig has no certificate authority")
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["default-cluster"] = &clientcmdapi.Cluster{Server: boot.Host, CertificateAuthorityData: boot.CAData,
		InsecureSkipTLSVerify: boot.Insecure && len(boot.CAData) == 0, TLSServerName: boot.ServerName}
	cfg.AuthInfos["default-auth"] = &clientcmdapi.AuthInfo{ClientCertificate: certFile, ClientKey: certFile}
	cfg.Contexts["default-context"] = &clientcmdapi.Context{Cluster: "default-cluster", AuthInfo: "default-auth", Namespace: "default"}
	cfg.CurrentContext = "default-context"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}
