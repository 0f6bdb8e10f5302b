package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/scheduler"
	"github.com/kinc-dev/kinc/pkg/scheduler/config"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/metrics"
	"github.com/kinc-dev/kinc/pkg/scheduler/queue"
)

// ErrLeadershipLost is returned by Run when another instance took the
// lease; the process should exit so the kubelet restarts it, as upstream.
var ErrLeadershipLost = errors.New("leaderelection lost")

// Run runs the scheduler until ctx ends (nil) or leadership is lost.
//
// --authentication-kubeconfig and --authorization-kubeconfig are loaded
// and checked, as upstream, but the secure port does not delegate yet:
// /healthz, /livez and /readyz are open (upstream's always-allowed paths)
// and /metrics is served without TokenReview/SubjectAccessReview.
func Run(ctx context.Context, o *Options, logger *slog.Logger) error {
	cfg, err := o.Config()
	if err != nil {
		return err
	}
	for _, kc := range []string{o.AuthenticationKubeconfig, o.AuthorizationKubeconfig} {
		if kc != "" {
			if _, err := clientcmd.LoadFromFile(kc); err != nil {
				return fmt.Errorf("loading %s: %w", kc, err)
			}
		}
	}
	restCfg, err := restConfig(cfg.ClientConnection, o.Master)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(restCfg), "scheduler"))
	if err != nil {
		return err
	}
	eventClient, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(restCfg), "scheduler-events"))
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
	if o.SecurePort > 0 {
		if err := startServing(ctx, o, logger, m, watchdog, synced); err != nil {
			return err
		}
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
	return runLeaderElection(ctx, restCfg, cfg.LeaderElection, watchdog, broadcaster, m, logger, sched.Run)
}

// restConfig builds the client configuration from the kubeconfig (and
// --master), or in-cluster when neither is given.
func restConfig(cc *config.ClientConnectionConfiguration, master string) (*rest.Config, error) {
	var c *rest.Config
	var err error
	if cc.Kubeconfig == "" && master == "" {
		c, err = rest.InClusterConfig()
	} else {
		c, err = clientcmd.BuildConfigFromFlags(master, cc.Kubeconfig)
	}
	if err != nil {
		return nil, fmt.Errorf("building client configuration: %w", err)
	}
	c.QPS, c.Burst = cc.QPS, int(cc.Burst)
	c.ContentType, c.AcceptContentTypes = cc.ContentType, cc.AcceptContentTypes
	return c, nil
}

func startServing(ctx context.Context, o *Options, logger *slog.Logger, m *metrics.Metrics, watchdog *leaderelection.HealthzAdaptor, synced <-chan struct{}) error {
	cert, err := servingCert(o)
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	ping := healthCheck{"ping", func(*http.Request) error { return nil }}
	checks := []healthCheck{ping}
	if watchdog != nil {
		checks = append(checks, healthCheck{"leaderElection", watchdog.Check})
	}
	ready := append(append([]healthCheck(nil), checks...), healthCheck{"sched-handler-sync", func(*http.Request) error {
		select {
		case <-synced:
			return nil
		default:
			return errors.New("waiting for informers to sync")
		}
	}})
	mux := http.NewServeMux()
	mux.Handle("/healthz", healthHandler("/healthz", checks))
	mux.Handle("/livez", healthHandler("/livez", checks))
	mux.Handle("/readyz", healthHandler("/readyz", ready))
	mux.Handle("/metrics", m.Handler())
	_, err = serveSecure(ctx, logger, net.JoinHostPort(o.BindAddress, strconv.Itoa(o.SecurePort)), cert, mux)
	return err
}

// runLeaderElection campaigns for the Lease and runs lead while leading.
// Losing the lease cancels lead's context (so in-flight bindings stop) and
// returns ErrLeadershipLost; ctx ending releases the lease.
func runLeaderElection(ctx context.Context, restCfg *rest.Config, le *config.LeaderElectionConfiguration,
	watchdog *leaderelection.HealthzAdaptor, broadcaster record.EventBroadcaster, m *metrics.Metrics,
	logger *slog.Logger, lead func(context.Context)) error {
	leCfg := rest.AddUserAgent(rest.CopyConfig(restCfg), "leader-election")
	leCfg.Timeout = le.RenewDeadline.Duration / 2
	leClient, err := kubernetes.NewForConfig(leCfg)
	if err != nil {
		return err
	}
	host, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("getting hostname: %w", err)
	}
	id := host + "_" + string(uuid.NewUUID())
	lock := &resourcelock.LeaseLock{
		LeaseMeta: metav1.ObjectMeta{Namespace: le.ResourceNamespace, Name: le.ResourceName},
		Client:    leClient.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id,
			EventRecorder: broadcaster.NewRecorder(scheme.Scheme, v1.EventSource{Component: le.ResourceName})},
	}
	lost := false
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, LeaseDuration: le.LeaseDuration.Duration, RenewDeadline: le.RenewDeadline.Duration,
		RetryPeriod: le.RetryPeriod.Duration, WatchDog: watchdog, Name: le.ResourceName, ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				logger.Info("became leader", "lease", le.ResourceNamespace+"/"+le.ResourceName, "identity", id)
				m.SetLeader(le.ResourceName, true)
				lead(lctx)
			},
			OnStoppedLeading: func() {
				m.SetLeader(le.ResourceName, false)
				if ctx.Err() == nil {
					lost = true
					logger.Error("leader election lost", "identity", id)
				}
			},
			OnNewLeader: func(identity string) {
				if identity != id {
					logger.Info("new leader elected", "identity", identity)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	m.SetLeader(le.ResourceName, false)
	elector.Run(ctx)
	if lost {
		return ErrLeadershipLost
	}
	return nil
}
