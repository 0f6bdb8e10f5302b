package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// Controller is what a controller manager runs.
type Controller interface {
	// Name is the controller's name as --controllers spells it (for
	// example "replicaset"); it names the controller's queue and logs.
	Name() string
	// Run waits until the informers the controller reads have synced, then
	// runs workers workers until ctx ends, and returns once every worker
	// (and background loop) has stopped. It returns nil after a normal
	// shutdown; an error wrapping ErrNotSynced (and ctx's cause) when ctx
	// ended before the caches synced; an error when workers < 1 or when
	// Run was already called (a controller runs once). Starting the
	// informer factory is the caller's job.
	Run(ctx context.Context, workers int) error
}

// SyncFunc brings the object named by key ("namespace/name", or "name" for
// a cluster-scoped object, or any key the controller enqueues itself)
// to its desired state. It must be idempotent and must not mutate objects
// read from an informer's cache. A nil error means done; an error means
// retry later with backoff. ctx ends when the controller shuts down.
type SyncFunc func(ctx context.Context, key string) error

// ErrNotSynced is wrapped by Run's error when ctx ended before the
// informers' caches synced.
var ErrNotSynced = errors.New("caches did not sync")

// Config configures a Loop. Name and Sync are required.
type Config struct {
	// Name names the controller, its workqueue and its log lines.
	Name string
	// Sync is called by the workers with each key.
	Sync SyncFunc
	// Logger receives the loop's lines, with controller=Name. Nil discards.
	Logger *slog.Logger
	// Synced are the HasSynced functions of every informer Sync reads
	// (through listers); workers start once all return true.
	Synced []cache.InformerSynced
	// RateLimiter decides how long a failed key waits before its retry.
	// Nil means workqueue.DefaultTypedControllerRateLimiter: per-key
	// exponential backoff from 5 ms to 1000 s, and 10 qps overall.
	RateLimiter workqueue.TypedRateLimiter[string]
	// MaxRetries, when positive, drops a key (logged at error level,
	// counted in Stats.Drops) after it failed MaxRetries+1 times in a row,
	// as the upstream deployment and endpointslice controllers do with 15.
	// It comes back with its next event. Zero retries forever, as the
	// upstream replicaset and namespace controllers do.
	MaxRetries int
	// Clock drives delayed keys (EnqueueAfter, retries) and Every. Nil
	// means the real clock.
	Clock clock.WithTicker
	// Background are loops Run starts next to the workers once the caches
	// synced (Every builds periodic ones). Each must return when its ctx
	// ends; Run waits for them.
	Background []func(ctx context.Context)
}

// DefaultMaxRetries is the MaxRetries of upstream's deployment and
// endpointslice controllers.
const DefaultMaxRetries = 15

// Loop is the informer → workqueue → workers → sync loop of one
// controller. Its methods are safe for concurrent use.
type Loop struct {
	cfg     Config
	logger  *slog.Logger
	clock   clock.WithTicker
	queue   workqueue.TypedRateLimitingInterface[string]
	stats   counters
	running atomic.Bool
}

// New returns a Loop for cfg; its queue accepts keys at once, Run starts
// the workers. It panics when cfg has no Name or no Sync: a programming
// error, not a runtime condition.
func New(cfg Config) *Loop {
	if cfg.Name == "" || cfg.Sync == nil {
		panic("controller.New: Config needs a Name and a Sync function")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RateLimiter == nil {
		cfg.RateLimiter = workqueue.DefaultTypedControllerRateLimiter[string]()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	return &Loop{
		cfg:    cfg,
		logger: cfg.Logger.With("controller", cfg.Name),
		clock:  cfg.Clock,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(cfg.RateLimiter,
			workqueue.TypedRateLimitingQueueConfig[string]{Name: cfg.Name, Clock: cfg.Clock}),
	}
}

// Name implements Controller.
func (l *Loop) Name() string { return l.cfg.Name }

// Logger returns the loop's logger (with controller=Name).
func (l *Loop) Logger() *slog.Logger { return l.logger }

// Clock returns the loop's clock.
func (l *Loop) Clock() clock.WithTicker { return l.clock }

// Run implements Controller. When it returns, the queue is shut down:
// later enqueues are ignored.
func (l *Loop) Run(ctx context.Context, workers int) error {
	if workers < 1 {
		return fmt.Errorf("controller %s: %d workers, want at least 1", l.cfg.Name, workers)
	}
	if !l.running.CompareAndSwap(false, true) {
		return fmt.Errorf("controller %s: Run called twice", l.cfg.Name)
	}
	defer l.queue.ShutDown()
	l.logger.Info("starting controller", "workers", workers)
	if !cache.WaitForCacheSync(ctx.Done(), l.cfg.Synced...) {
		return fmt.Errorf("controller %s: %w: %w", l.cfg.Name, ErrNotSynced, context.Cause(ctx))
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for l.processNext(ctx) {
			}
		})
	}
	for _, bg := range l.cfg.Background {
		wg.Go(func() { bg(ctx) })
	}
	<-ctx.Done()
	l.logger.Info("stopping controller")
	l.queue.ShutDown()
	wg.Wait()
	return nil
}

// processNext syncs one key; it returns false once the queue is shut down
// and empty. Keys still queued when ctx has ended are dropped unsynced.
func (l *Loop) processNext(ctx context.Context) bool {
	key, quit := l.queue.Get()
	if quit {
		return false
	}
	defer l.queue.Done(key)
	if ctx.Err() != nil {
		return true
	}
	start := l.clock.Now()
	err := l.sync(ctx, key)
	l.stats.synced(l.clock.Since(start), err)
	l.handleErr(ctx, key, err)
	return true
}

// sync calls Config.Sync, turning a panic into an error so that one
// unexpected object cannot crash the process.
func (l *Loop) sync(ctx context.Context, key string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			l.logger.Error("sync panicked", "key", key, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("sync of %q panicked: %v", key, r)
		}
	}()
	return l.cfg.Sync(ctx, key)
}

// handleErr forgets key's failures after a success, and requeues it with
// backoff after a failure, or drops it past MaxRetries.
func (l *Loop) handleErr(ctx context.Context, key string, err error) {
	if err == nil {
		l.queue.Forget(key)
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the error is most likely ctx's own
	}
	n := l.queue.NumRequeues(key)
	if l.cfg.MaxRetries > 0 && n >= l.cfg.MaxRetries {
		l.queue.Forget(key)
		l.stats.drops.Add(1)
		l.logger.Error("dropping key after too many retries", "key", key, "retries", n, "err", err)
		return
	}
	l.stats.retries.Add(1)
	l.logger.Info("sync failed, will retry", "key", key, "retries", n+1, "err", err)
	l.queue.AddRateLimited(key)
}
