package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// ErrLeadershipLost is returned by LeaderElection.Run when another
// instance took the lease: the process should exit (non-zero) so that the
// kubelet restarts it, as upstream's components do.
var ErrLeadershipLost = errors.New("leaderelection lost")

// LeaderElectionOptions are upstream's --leader-elect* flags.
type LeaderElectionOptions struct {
	LeaderElect       bool
	LeaseDuration     time.Duration
	RenewDeadline     time.Duration
	RetryPeriod       time.Duration
	ResourceLock      string
	ResourceName      string
	ResourceNamespace string
}

// NewLeaderElectionOptions returns upstream's defaults for the Lease
// kube-system/<name>: enabled, 15s lease, 10s renew deadline, 2s retry.
func NewLeaderElectionOptions(name string) LeaderElectionOptions {
	return LeaderElectionOptions{LeaderElect: true, LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second,
		RetryPeriod: 2 * time.Second, ResourceLock: "leases", ResourceName: name, ResourceNamespace: "kube-system"}
}

// AddFlags registers the --leader-elect* flags.
func (o *LeaderElectionOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Start a leader election client and gain leadership before executing the main loop.")
	fs.DurationVar(&o.LeaseDuration, "leader-elect-lease-duration", o.LeaseDuration, "The duration that non-leader candidates will wait after observing a leadership renewal until attempting to acquire leadership.")
	fs.DurationVar(&o.RenewDeadline, "leader-elect-renew-deadline", o.RenewDeadline, "The interval between attempts by the acting master to renew a leadership slot before it stops leading.")
	fs.DurationVar(&o.RetryPeriod, "leader-elect-retry-period", o.RetryPeriod, "The duration the clients should wait between attempting acquisition and renewal of a leadership.")
	fs.StringVar(&o.ResourceLock, "leader-elect-resource-lock", o.ResourceLock, "The type of resource object that is used for locking during leader election. Supported options are 'leases'.")
	fs.StringVar(&o.ResourceName, "leader-elect-resource-name", o.ResourceName, "The name of resource object that is used for locking during leader election.")
	fs.StringVar(&o.ResourceNamespace, "leader-elect-resource-namespace", o.ResourceNamespace, "The namespace of resource object that is used for locking during leader election.")
}

// Validate checks what client-go's elector requires, naming the flags.
func (o *LeaderElectionOptions) Validate() error {
	if !o.LeaderElect {
		return nil
	}
	var errs []error
	if o.ResourceLock != "leases" {
		errs = append(errs, fmt.Errorf("--leader-elect-resource-lock %q is not supported: only leases", o.ResourceLock))
	}
	if o.ResourceName == "" || o.ResourceNamespace == "" {
		errs = append(errs, errors.New("--leader-elect-resource-name and --leader-elect-resource-namespace must not be empty"))
	}
	if o.RetryPeriod <= 0 {
		errs = append(errs, errors.New("--leader-elect-retry-period must be positive"))
	}
	if o.LeaseDuration <= o.RenewDeadline {
		errs = append(errs, errors.New("--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline"))
	}
	if float64(o.RenewDeadline) <= leaderelection.JitterFactor*float64(o.RetryPeriod) {
		errs = append(errs, fmt.Errorf("--leader-elect-renew-deadline must be greater than %.1f × --leader-elect-retry-period", leaderelection.JitterFactor))
	}
	return errors.Join(errs...)
}

// LeaderElectionClient returns the elector's own client: a copy of cfg with
// the "leader-election" user agent and a request timeout of half the renew
// deadline, as upstream, so that one slow renewal cannot use it all.
func LeaderElectionClient(cfg *rest.Config, renewDeadline time.Duration) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.Timeout = renewDeadline / 2
	return NewClientset(c, "leader-election")
}

// LeaderElection campaigns for a Lease and runs a function while leading.
type LeaderElection struct {
	// Client reaches the coordination API (see LeaderElectionClient).
	Client kubernetes.Interface
	// Namespace and Name name the Lease (kube-system/kube-scheduler…).
	Namespace, Name string
	// Identity is this candidate's holder identity; empty means
	// "<hostname>_<random UUID>", as upstream.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are the elector's timing
	// (see LeaderElectionOptions).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// WatchDog, when set, reports a leader that failed to renew in time to
	// the leaderElection health check (see LeaderHealthCheck).
	WatchDog *leaderelection.HealthzAdaptor
	// Recorder, when set, records the LeaderElection events upstream
	// records on the Lease.
	Recorder resourcelock.EventRecorder
	// OnLeading, when set, is told when this instance starts (true) and
	// stops (false) leading, and false once before campaigning (metrics).
	OnLeading func(leading bool)
	// Logger receives "became leader", "new leader elected" and "leader
	// election lost".
	Logger *slog.Logger
}

// Run campaigns until ctx ends, running lead while leading.
//
// When ctx ends, lead's context is cancelled and the lease is released
// only after lead has returned, so that no two instances ever run lead at
// once; Run then returns nil. Losing the lease (no renewal within
// RenewDeadline) cancels lead's context too, and Run returns
// ErrLeadershipLost once lead has returned.
func (le LeaderElection) Run(ctx context.Context, lead func(context.Context)) error {
	id := le.Identity
	if id == "" {
		host, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("getting hostname: %w", err)
		}
		id = host + "_" + string(uuid.NewUUID())
	}
	onLeading := le.OnLeading
	if onLeading == nil {
		onLeading = func(bool) {}
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: le.Namespace, Name: le.Name},
		Client:     le.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: id, EventRecorder: le.Recorder},
	}
	lease := le.Namespace + "/" + le.Name

	// The elector runs on its own context, cancelled once lead is done.
	electCtx, stopElecting := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElecting()
	var (
		mu       sync.Mutex
		stopping bool
		leadDone chan struct{} // closed when lead returns; nil until it starts
	)
	// stop makes lead never start again and returns its done channel.
	stop := func() chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		stopping = true
		return leadDone
	}
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
		case <-finished:
			return
		}
		if d := stop(); d != nil {
			<-d
		}
		stopElecting()
	}()

	lost := false
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, LeaseDuration: le.LeaseDuration, RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod,
		WatchDog: le.WatchDog, Name: le.Name, ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				mu.Lock()
				if stopping {
					mu.Unlock()
					return
				}
				done := make(chan struct{})
				leadDone = done
				mu.Unlock()
				defer close(done)
				lctx, cancel := context.WithCancel(lctx)
				defer cancel()
				defer context.AfterFunc(ctx, cancel)()
				le.Logger.Info("became leader", "lease", lease, "identity", id)
				onLeading(true)
				lead(lctx)
			},
			OnStoppedLeading: func() {
				onLeading(false)
				if ctx.Err() == nil {
					lost = true
					le.Logger.Error("leader election lost", "lease", lease, "identity", id)
				}
			},
			OnNewLeader: func(identity string) {
				if identity != id {
					le.Logger.Info("new leader elected", "lease", lease, "identity", identity)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	onLeading(false)
	elector.Run(electCtx)
	if d := stop(); d != nil {
		<-d
	}
	if lost {
		return ErrLeadershipLost
	}
	return nil
}

// LeaderHealthCheck is upstream's "leaderElection" check on a watchdog.
func LeaderHealthCheck(w *leaderelection.HealthzAdaptor) HealthCheck {
	return HealthCheck{Name: "leaderElection", Check: func(r *http.Request) error { return w.Check(r) }}
}
