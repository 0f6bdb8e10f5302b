package app

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/scheduler"
	"github.com/kinc-dev/kinc/pkg/scheduler/config"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/metrics"
	"github.com/kinc-dev/kinc/pkg/scheduler/queue"
)

// Run runs the scheduler until ctx ends (nil) or leadership is lost
// (daemon.ErrLeadershipLost, after the scheduling loop has stopped).
//
// The secure port delegates, as upstream: client certificates
// (--client-ca-file, else the apiserver's published client CA) and bearer
// tokens (TokenReview through --authentication-kubeconfig) authenticate,
// anonymous requests are allowed; /healthz, /livez and /readyz are always
// allowed, anything else (/metrics) needs a SubjectAccessReview through
// --authorization-kubeconfig to allow it (system:masters skips it).
func Run(ctx context.Context, o *Options, logger *slog.Logger) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	cc := cfg.ClientConnection
	restCfg, err := daemon.ClientOptions{Kubeconfig: cc.Kubeconfig, Master: o.Master, QPS: cc.QPS, Burst: int(cc.Burst),
		ContentType: cc.ContentType, AcceptContentTypes: cc.AcceptContentTypes}.RESTConfig(ctx, logger)
	if err != nil {
		return err
	}
	client, err := daemon.NewClientset(restCfg, "scheduler")
	if err != nil {
		return err
	}
	eventClient, err := daemon.NewClientset(restCfg, "scheduler-events")
	if err != nil {
		return err
	}
	var profiles []framework.ProfileConfig
	for i := range cfg.Profiles {
		p, err := config.Resolve(&cfg.Profiles[i], *cfg.PercentageOfNodesToScore)
		if err != nil {
			return err
		}
		profiles = append(profiles, p)
	}

	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: eventClient.CoreV1().Events("")})
	defer broadcaster.Shutdown()

	var sched *scheduler.Scheduler
	m := metrics.New(func() (int, int, int) {
		if sched == nil {
			return 0, 0, 0
		}
		return sched.Queue().Pending()
	})
	factory := informers.NewSharedInformerFactory(client, 0)
	sched, err = scheduler.New(scheduler.Config{
		Client: client, InformerFactory: factory, Profiles: profiles, Parallelism: int(*cfg.Parallelism),
		Queue: queue.Options{InitialBackoff: time.Duration(*cfg.PodInitialBackoffSeconds) * time.Second,
			MaxBackoff: time.Duration(*cfg.PodMaxBackoffSeconds) * time.Second},
		Broadcaster: broadcaster, Logger: logger, Metrics: m,
	})
	if err != nil {
		return err
	}

	le := cfg.LeaderElection
	var watchdog *leaderelection.HealthzAdaptor
	if *le.LeaderElect {
		watchdog = leaderelection.NewLeaderHealthzAdaptor(20 * time.Second)
	}
	synced := make(chan struct{})
	e := endpoints(m, watchdog, synced)
	if o.SecurePort != 0 {
		filter, err := o.Options.Filter(ctx, "kube-scheduler/delegated-auth", logger)
		if err != nil {
			return err
		}
		e.Wrap = filter.Wrap
	}
	if _, err := o.SecureServingOptions.Serve(ctx, e, logger); err != nil {
		return err
	}

	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !sched.WaitForCacheSync(ctx) {
		return ctx.Err()
	}
	close(synced)
	if !*le.LeaderElect {
		sched.Run(ctx)
		return nil
	}
	leClient, err := daemon.LeaderElectionClient(restCfg, le.RenewDeadline.Duration)
	if err != nil {
		return err
	}
	return daemon.LeaderElection{
		Client: leClient, Namespace: le.ResourceNamespace, Name: le.ResourceName,
		LeaseDuration: le.LeaseDuration.Duration, RenewDeadline: le.RenewDeadline.Duration, RetryPeriod: le.RetryPeriod.Duration,
		WatchDog: watchdog, Recorder: broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: le.ResourceName}),
		OnLeading: func(leading bool) { m.SetLeader(le.ResourceName, leading) },
		Logger:    logger,
	}.Run(ctx, sched.Run)
}

// endpoints are upstream's checks of the secure port: /healthz and /livez
// add leaderElection (when electing) to ping; /readyz adds
// sched-handler-sync, which passes once the informers have synced.
func endpoints(m *metrics.Metrics, watchdog *leaderelection.HealthzAdaptor, synced <-chan struct{}) daemon.Endpoints {
	e := daemon.Endpoints{Metrics: m.Handler(), Ready: []daemon.HealthCheck{{Name: "sched-handler-sync", Check: func(*http.Request) error {
		select {
		case <-synced:
			return nil
		default:
			return errors.New("waiting for informers to sync")
		}
	}}}}
	if watchdog != nil {
		e.Live = append(e.Live, daemon.LeaderHealthCheck(watchdog))
	}
	return e
}
