package delegated

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// ClientCAConfigMap is where the kube-apiserver publishes its client CA
// (key client-ca-file) for components without --client-ca-file.
const (
	ClientCAConfigMapNamespace = "kube-system"
	ClientCAConfigMapName      = "extension-apiserver-authentication"
)

// clientCARefresh is how often the published client CA is read again.
const clientCARefresh = time.Minute

// PublishedClientCA authenticates client certificates, as X509, against
// the client CA the apiserver publishes in
// kube-system/extension-apiserver-authentication (upstream's in-cluster
// lookup of the scheduler and controller-manager without
// --client-ca-file). Run reads it and keeps reading it, so a CA
// published after the component started, or a new one, is used; until
// one is read, client certificates are ignored (the request is then
// anonymous or uses its token). Safe for concurrent use.
type PublishedClientCA struct {
	Client kubernetes.Interface
	Logger *slog.Logger

	mu    sync.Mutex
	pem   string
	roots *x509.CertPool
}

// Run reads the ConfigMap now and every minute until ctx ends.
func (p *PublishedClientCA) Run(ctx context.Context) {
	t := time.NewTicker(clientCARefresh)
	defer t.Stop()
	for {
		p.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *PublishedClientCA) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cm, err := p.Client.CoreV1().ConfigMaps(ClientCAConfigMapNamespace).Get(ctx, ClientCAConfigMapName, metav1.GetOptions{})
	if err != nil {
		if p.current() == nil {
			p.Logger.Warn("no client CA yet: client certificate authentication won't work until the apiserver publishes it",
				"configmap", ClientCAConfigMapNamespace+"/"+ClientCAConfigMapName, "err", err)
		}
		return
	}
	data := cm.Data["client-ca-file"]
	p.mu.Lock()
	defer p.mu.Unlock()
	if data == "" || data == p.pem {
		return
	}
	pool, err := pki.CertPoolFromPEM([]byte(data))
	if err != nil {
		p.Logger.Warn("published client CA", "err", err)
		return
	}
	p.pem, p.roots = data, pool
	p.Logger.Info("client CA loaded", "configmap", ClientCAConfigMapNamespace+"/"+ClientCAConfigMapName)
}

func (p *PublishedClientCA) current() *x509.CertPool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.roots
}

// AuthenticateRequest implements Authenticator.
func (p *PublishedClientCA) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	roots := p.current()
	if roots == nil {
		return nil, false, nil
	}
	return X509{Roots: roots}.AuthenticateRequest(r)
}
