package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
)

// FilePollInterval is how often WaitForFile looks for its file.
const FilePollInterval = time.Second

// ClientOptions say how a daemon reaches the apiserver.
type ClientOptions struct {
	// Kubeconfig is the kubeconfig file (--kubeconfig). Without it and
	// Master the in-cluster configuration is used.
	Kubeconfig string
	// Master overrides the kubeconfig's server (--master).
	Master string
	// UserAgent, when set, replaces client-go's default user agent.
	UserAgent string
	// QPS and Burst limit the client; zero keeps client-go's defaults.
	QPS   float32
	Burst int
	// ContentType and AcceptContentTypes, when set, choose the wire format.
	ContentType        string
	AcceptContentTypes string
	// WaitForKubeconfig is how long to wait for Kubeconfig to appear, for a
	// daemon that may start before it is written; zero means the file must
	// exist already.
	WaitForKubeconfig time.Duration
	// Clock times the wait; nil means the real clock.
	Clock clock.Clock
}

// RESTConfig builds the client configuration, first waiting for the
// kubeconfig when WaitForKubeconfig is set (see WaitForFile).
func (o ClientOptions) RESTConfig(ctx context.Context, logger *slog.Logger) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	switch {
	case o.Kubeconfig == "" && o.Master == "":
		cfg, err = rest.InClusterConfig()
	default:
		if o.Kubeconfig != "" && o.WaitForKubeconfig > 0 {
			if err := WaitForFile(ctx, "the kubeconfig", o.Kubeconfig, o.WaitForKubeconfig, o.Clock, logger); err != nil {
				return nil, err
			}
		}
		cfg, err = clientcmd.BuildConfigFromFlags(o.Master, o.Kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("building client configuration: %w", err)
	}
	if o.UserAgent != "" {
		cfg.UserAgent = o.UserAgent
	}
	if o.QPS != 0 {
		cfg.QPS = o.QPS
	}
	if o.Burst != 0 {
		cfg.Burst = o.Burst
	}
	if o.ContentType != "" {
		cfg.ContentType = o.ContentType
	}
	if o.AcceptContentTypes != "" {
		cfg.AcceptContentTypes = o.AcceptContentTypes
	}
	return cfg, nil
}

// NewClientset returns a clientset on a copy of cfg whose user agent has
// suffix appended (rest.AddUserAgent: "<agent>/<suffix>"), so that each
// of a daemon's clients (main loop, events, leader election) is told apart
// in the apiserver's logs.
func NewClientset(cfg *rest.Config, suffix string) (*kubernetes.Clientset, error) {
	c := rest.CopyConfig(cfg)
	if suffix != "" {
		c = rest.AddUserAgent(c, suffix)
	}
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("creating a client: %w", err)
	}
	return cs, nil
}

// WaitForFile returns once path exists, logging one line naming what
// ("the kubeconfig") when it has to wait. It fails when path cannot be looked at, when it has not appeared
// within timeout (a positive bound), or with ctx's error when ctx ends
// first. clk nil means the real clock.
func WaitForFile(ctx context.Context, what, path string, timeout time.Duration, clk clock.Clock, logger *slog.Logger) error {
	if clk == nil {
		clk = clock.RealClock{}
	}
	deadline := clk.After(timeout)
	logged := false
	for {
		_, err := os.Stat(path)
		if err == nil {
			if logged {
				logger.Info("found "+what, "path", path)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if !logged {
			logger.Info("waiting for "+what, "path", path, "timeout", timeout)
			logged = true
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s %s: %w", what, path, ctx.Err())
		case <-deadline:
			return fmt.Errorf("%s %s did not appear within %s", what, path, timeout)
		case <-clk.After(FilePollInterval):
		}
	}
}
