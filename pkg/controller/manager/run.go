package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/daemon"
)

// Run runs the controller manager until ctx ends, then returns nil once
// every controller has stopped. Before connecting it validates o (an
// error names the flag at fault). It serves the secure port at once and,
// with --leader-elect, runs the controllers only while holding the Lease
// kube-system/kube-controller-manager: losing it stops them and returns
// daemon.ErrLeadershipLost (the process should exit and be restarted, as
// upstream's does). A controller that cannot be constructed stops the
// manager (releasing the Lease) with its error.
func Run(ctx context.Context, o *Options, logger *slog.Logger) error {
	if err := o.Validate(); err != nil {
		return err
	}
	enabled, err := Enabled(Known(), o.Controllers)
	if err != nil {
		return err
	}
	root, err := daemon.ClientOptions{Kubeconfig: o.Kubeconfig, QPS: o.KubeAPIQPS, Burst: int(o.KubeAPIBurst)}.RESTConfig(ctx, logger)
	if err != nil {
		return err
	}
	eventClient, err := daemon.NewClientset(root, "event-broadcaster")
	if err != nil {
		return err
	}
	broadcaster := record.NewBroadcaster() // not WithContext: it must outlive ctx to record the lease release
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: eventClient.CoreV1().Events("")})
	defer broadcaster.Shutdown()

	// stop ends everything (serving included) when the controllers cannot
	// be constructed.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	m := &manager{opts: o, root: root, enabled: enabled, events: broadcaster, logger: logger, health: newControllerHealth()}
	var watchdog *leaderelection.HealthzAdaptor
	if o.LeaderElect {
		watchdog = leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
	}
	e := m.endpoints(watchdog)
	if o.SecurePort != 0 {
		filter, err := o.Options.Filter(ctx, Name+"/delegated-auth", logger)
		if err != nil {
			return err
		}
		e.Wrap = filter.Wrap
	}
	if _, err := o.SecureServingOptions.Serve(ctx, e, logger); err != nil {
		return err
	}
	if !o.LeaderElect {
		return m.run(ctx)
	}
	leClient, err := daemon.LeaderElectionClient(root, o.RenewDeadline)
	if err != nil {
		return err
	}
	var runErr error // written by lead, read after the election returned (which waits for lead)
	err = daemon.LeaderElection{
		Client: leClient, Namespace: o.ResourceNamespace, Name: o.ResourceName, Identity: o.Identity,
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		WatchDog: watchdog, Recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: Name}),
		Logger: logger,
	}.Run(ctx, func(ctx context.Context) {
		if err := m.run(ctx); err != nil {
			runErr = err
			stop(err)
		}
	})
	if runErr != nil {
		return runErr
	}
	return err
}

// manager is one Run's state.
type manager struct {
	opts    *Options
	root    *rest.Config
	enabled []Descriptor
	events  record.EventBroadcaster
	logger  *slog.Logger
	health  *controllerHealth
}

// run is one term of leadership (or the whole run without election): it
// constructs the enabled controllers on a new informer factory, starts the
// factory, runs every controller until ctx ends, waits for all of them and
// stops the informers. It fails only when a controller cannot be
// constructed, before anything runs.
func (m *manager) run(ctx context.Context) error {
	informerClient, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(m.root), "shared-informers"))
	if err != nil {
		return fmt.Errorf("creating the informers' client: %w", err)
	}
	factory := informers.NewSharedInformerFactory(informerClient, 0)
	builder, err := m.clientBuilder(ctx)
	if err != nil {
		return err
	}
	cc := Context{Options: m.opts, InformerFactory: factory, ClientBuilder: builder,
		Events: m.events, Logger: m.logger, Clock: clock.RealClock{}}

	type runnable struct {
		name    string
		c       controller.Controller
		workers int
	}
	var toRun []runnable
	var started, skipped, missing []string
	for _, d := range m.enabled {
		if d.New == nil {
			missing = append(missing, d.Name)
			continue
		}
		c, err := d.New(ctx, cc)
		if err != nil {
			return fmt.Errorf("controller %s: %w", d.Name, err)
		}
		if c == nil {
			skipped = append(skipped, d.Name)
			continue
		}
		toRun = append(toRun, runnable{d.Name, c, d.workers(m.opts)})
		started = append(started, d.Name)
	}
	m.logger.Info("starting controllers", "controllers", started, "skipped", skipped, "notImplementedYet", missing)

	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	for _, r := range toRun {
		wg.Go(func() {
			err := r.c.Run(ctx, r.workers)
			if err != nil && !(ctx.Err() != nil && errors.Is(err, controller.ErrNotSynced)) {
				m.logger.Error("controller stopped", "controller", r.name, "err", err)
				m.health.fail(r.name, err)
			}
		})
	}
	wg.Wait()
	factory.Shutdown()
	m.logger.Info("controllers stopped")
	return nil
}

// clientBuilder returns the controllers' ClientBuilder: root's, or with
// --use-service-account-credentials one giving each controller its own
// service account's token, obtained with root's credentials. The shared
// informers, the leader election and the event broadcaster stay on root,
// as upstream's.
func (m *manager) clientBuilder(ctx context.Context) (ClientBuilder, error) {
	if !m.opts.UseServiceAccountCredentials {
		return RootClientBuilder(m.root), nil
	}
	client, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(m.root), "service-account-credentials"))
	if err != nil {
		return nil, fmt.Errorf("creating the service account credentials' client: %w", err)
	}
	return ServiceAccountCredentials{Root: m.root, Client: client.CoreV1(), Logger: m.logger}.ClientBuilder(ctx), nil
}
