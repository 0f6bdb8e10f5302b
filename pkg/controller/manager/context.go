package manager

import (
	"fmt"
	"log/slog"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

// Context is what every controller constructor gets: what the controllers
// of one leadership term share. Its fields are set by the manager and
// read-only for constructors.
type Context struct {
	// Options are the manager's command line.
	Options *Options
	// InformerFactory is shared by every controller (one informer per
	// resource, whatever the number of controllers reading it). The
	// manager starts it after every enabled controller is constructed.
	InformerFactory informers.SharedInformerFactory
	// ClientBuilder gives each controller its client configuration; use
	// NewClient or ClientConfig.
	ClientBuilder ClientBuilder
	// Events sends events to the apiserver; a controller that records
	// events (where upstream's does) makes its recorder with
	// Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: <its
	// upstream component name>}).
	Events record.EventBroadcaster
	// Logger is the manager's logger; controller loops add controller=<name>.
	Logger *slog.Logger
	// Clock is the controllers' clock.
	Clock clock.WithTicker
}

// ClientConfig returns the client configuration of the controller whose
// service account (in kube-system) upstream names serviceAccount
// ("service-account-controller", "root-ca-cert-publisher"…).
func (c Context) ClientConfig(serviceAccount string) (*rest.Config, error) {
	cfg, err := c.ClientBuilder(serviceAccount)
	if err != nil {
		return nil, fmt.Errorf("client configuration for %s: %w", serviceAccount, err)
	}
	return cfg, nil
}

// NewClient returns a clientset on ClientConfig(serviceAccount).
func (c Context) NewClient(serviceAccount string) (kubernetes.Interface, error) {
	cfg, err := c.ClientConfig(serviceAccount)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", serviceAccount, err)
	}
	return cs, nil
}

// ClientBuilder returns the client configuration of the controller whose
// service account in kube-system is named serviceAccount. It must return a
// configuration the caller may modify (a copy).
type ClientBuilder func(serviceAccount string) (*rest.Config, error)

// RootClientBuilder returns the ClientBuilder of the manager without
// --use-service-account-credentials (upstream's
// SimpleControllerClientBuilder): every controller uses root, the
// kubeconfig's credentials, in a copy whose user agent
// "<binary>/<version> (<os>/<arch>) kubernetes/<commit>/<serviceAccount>"
// tells the controllers apart in the apiserver's logs. With the flag, the
// manager uses ServiceAccountCredentials.ClientBuilder instead.
func RootClientBuilder(root *rest.Config) ClientBuilder {
	return func(serviceAccount string) (*rest.Config, error) {
		return rest.AddUserAgent(rest.CopyConfig(root), serviceAccount), nil
	}
}
