package cacher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// Defaults of Config.
const (
	DefaultWindowSize        = 1000
	DefaultWatcherBufferSize = 100
	DefaultBookmarkInterval  = time.Minute
	DefaultFreshnessTimeout  = 3 * time.Second
	DefaultDispatchTimeout   = 100 * time.Millisecond
	relistBackoff            = time.Second
)

// Config configures a Cacher for one resource.
type Config struct {
	// Storage is the store to delegate to and to watch; required.
	Storage storage.Interface
	// ResourcePrefix is the storage key of the resource, e.g. "/pods"; required.
	// Watches of keys outside it are delegated to Storage.
	ResourcePrefix string
	// NewFunc returns an empty object (bookmarks); NewListFunc an empty list (the
	// initial list). Both required.
	NewFunc     func() runtime.Object
	NewListFunc func() runtime.Object
	// KeyFunc returns an object's storage key. Default: ResourcePrefix/<ns>/<name>,
	// or ResourcePrefix/<name> for objects without a namespace.
	KeyFunc func(obj runtime.Object) (string, error)
	// GetAttrs, when set, computes once per event the labels and fields that
	// every watcher's selectors are matched against; it must then know every
	// field a predicate may select on (predicates' own GetAttrs are not used).
	// When nil, each watcher matches with its predicate's GetAttrs (or
	// storage.DefaultNamespaceScopedAttrs), once per event and watcher.
	GetAttrs storage.AttrFunc
	// Versioner defaults to storage.APIObjectVersioner.
	Versioner storage.Versioner
	// WindowSize is how many recent events a watch can resume from.
	WindowSize int
	// WatcherBufferSize is how many events a watcher may lag behind.
	WatcherBufferSize int
	// DispatchTimeout is how long an event waits, in total, for the watchers
	// whose buffers are full; those still full then are terminated.
	DispatchTimeout time.Duration
	// BookmarkInterval is how often bookmarks are sent (kube-apiserver: ~1m).
	BookmarkInterval time.Duration
	// FreshnessTimeout bounds how long a watch from "" waits for the cache to
	// reach the store's current revision (TooLargeResourceVersion after that).
	FreshnessTimeout time.Duration
	// Clock drives bookmarks and timeouts; the real clock when nil.
	Clock clock.WithTicker
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// Cacher is a storage.Interface that serves watches from one shared underlying
// watch and delegates everything else. Create it with New and end it with Stop.
type Cacher struct {
	storage.Interface // the delegate: Create, Get, GetList, GuaranteedUpdate, Delete, ...

	cfg      Config
	progress storage.ProgressRequester // nil when Storage cannot request progress
	cancel   context.CancelFunc
	done     chan struct{} // closed when every goroutine of the cacher has ended
	ready    chan struct{} // closed after the first successful list
	once     sync.Once     // closes ready

	// mu guards the cache state: see cache.go. Never held while calling Storage.
	mu sync.Mutex
	cache
}

var _ storage.Interface = (*Cacher)(nil)

// New validates cfg, fills in defaults, and starts caching in the background.
// Watches wait until the first list has completed.
func New(cfg Config) (*Cacher, error) {
	if cfg.Storage == nil || cfg.ResourcePrefix == "" || cfg.NewFunc == nil || cfg.NewListFunc == nil {
		return nil, errors.New("cacher: Storage, ResourcePrefix, NewFunc and NewListFunc are required")
	}
	cfg.ResourcePrefix = "/" + strings.Trim(cfg.ResourcePrefix, "/")
	if cfg.KeyFunc == nil {
		cfg.KeyFunc = defaultKeyFunc(cfg.ResourcePrefix)
	}
	if cfg.Versioner == nil {
		cfg.Versioner = storage.APIObjectVersioner{}
	}
	if cfg.WindowSize <= 0 {
		cfg.WindowSize = DefaultWindowSize
	}
	if cfg.WatcherBufferSize <= 0 {
		cfg.WatcherBufferSize = DefaultWatcherBufferSize
	}
	if cfg.DispatchTimeout <= 0 {
		cfg.DispatchTimeout = DefaultDispatchTimeout
	}
	if cfg.BookmarkInterval <= 0 {
		cfg.BookmarkInterval = DefaultBookmarkInterval
	}
	if cfg.FreshnessTimeout <= 0 {
		cfg.FreshnessTimeout = DefaultFreshnessTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cacher{
		Interface: cfg.Storage,
		cfg:       cfg,
		cancel:    cancel,
		done:      make(chan struct{}),
		ready:     make(chan struct{}),
		cache:     newCache(cfg.WindowSize),
	}
	c.progress, _ = cfg.Storage.(storage.ProgressRequester)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.run(ctx) }()
	go func() { defer wg.Done(); c.bookmarkLoop(ctx) }()
	go func() { wg.Wait(); close(c.done) }()
	return c, nil
}

// Stop ends caching and terminates every watcher. It waits for the cacher's
// goroutines to end; delegated operations keep working.
func (c *Cacher) Stop() {
	c.cancel()
	<-c.done
}

// Watch implements storage.Interface; see the package documentation.
func (c *Cacher) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	if opts.SendInitialEvents != nil {
		return nil, storage.NewBadRequestError(key, "sendInitialEvents is not supported")
	}
	if key != c.cfg.ResourcePrefix && !strings.HasPrefix(key, c.cfg.ResourcePrefix+"/") {
		return c.Interface.Watch(ctx, key, opts)
	}
	fromRV, err := storage.ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, storage.NewBadRequestError(key, err.Error())
	}
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("watch %s: waiting for the cache: %w", key, ctx.Err())
	case <-c.done:
		return nil, fmt.Errorf("watch %s: cacher stopped", key)
	}
	if opts.ResourceVersion == "" {
		// "Most recent": wait until the cache has seen everything stored so far.
		cur, err := c.Interface.GetCurrentResourceVersion(ctx)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", key, err)
		}
		if err := c.waitFresh(ctx, key, int64(cur)); err != nil {
			return nil, err
		}
	}
	w := newCacheWatcher(c, key, opts, c.cfg.WatcherBufferSize)
	initial, err := c.register(w, key, int64(fromRV), fromRV == 0)
	if err != nil {
		if storage.IsExpired(err) {
			return newErrWatcher(err), nil
		}
		return nil, err
	}
	go w.run(ctx, initial)
	return w, nil
}

// waitFresh waits until the cache has reached revision rv.
func (c *Cacher) waitFresh(ctx context.Context, key string, rv int64) error {
	timeout := c.cfg.Clock.After(c.cfg.FreshnessTimeout)
	requested := false
	for {
		c.mu.Lock()
		cur, changed := c.rv, c.rvChanged
		c.mu.Unlock()
		if cur >= rv {
			return nil
		}
		if !requested && c.progress != nil {
			requested = true
			if err := c.progress.RequestWatchProgress(ctx); err != nil {
				c.cfg.Logger.Debug("request watch progress", "error", err)
			}
		}
		select {
		case <-changed:
		case <-timeout:
			return storage.NewTooLargeResourceVersionError(key, rv, cur)
		case <-ctx.Done():
			return fmt.Errorf("watch %s: %w", key, ctx.Err())
		}
	}
}

func defaultKeyFunc(prefix string) func(runtime.Object) (string, error) {
	return func(obj runtime.Object) (string, error) {
		m, err := meta.Accessor(obj)
		if err != nil {
			return "", err
		}
		if ns := m.GetNamespace(); ns != "" {
			return prefix + "/" + ns + "/" + m.GetName(), nil
		}
		return prefix + "/" + m.GetName(), nil
	}
}
