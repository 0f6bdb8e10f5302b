package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/lru"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's name in --controllers.
const Name = "garbagecollector"

// Upstream's defaults.
const (
	// DefaultConcurrentSyncs is --concurrent-gc-syncs.
	DefaultConcurrentSyncs = 20
	// DefaultResyncPeriod is how often discovery is asked for the served
	// resources.
	DefaultResyncPeriod = 30 * time.Second
	// DefaultInitialSyncTimeout bounds the wait for the first listing of
	// every resource: past it the workers start anyway (a resource that
	// cannot be listed must not stop collection of the others).
	DefaultInitialSyncTimeout = 30 * time.Second
	// EventComponent is the source of the events it records.
	EventComponent = "garbage-collector-controller"
)

// Queue key prefixes.
const (
	keyDelete = "delete"
	keyOrphan = "orphan"
)

// Options tune a Controller; the zero value means upstream's defaults.
type Options struct {
	// ResyncPeriod is how often discovery is asked again; zero means
	// DefaultResyncPeriod.
	ResyncPeriod time.Duration
	// InitialSyncTimeout: zero means DefaultInitialSyncTimeout.
	InitialSyncTimeout time.Duration
	// Recorder receives the events (nil records none).
	Recorder record.EventRecorder
	// Logger nil discards; Clock nil means the real clock.
	Logger *slog.Logger
	Clock  clock.WithTicker
}

// Controller is the garbage collector; see the package comment. Run it
// with DefaultConcurrentSyncs workers.
type Controller struct {
	*controller.Loop
	graph    *graph
	builder  *builder
	monitors *monitors
	client   *client
	absent   *lru.Cache
	opts     Options
	started  time.Time
	running  atomic.Bool
}

// New returns the garbage collector. metadataClient reads, watches,
// patches and deletes objects of every resource; discoveryClient finds the
// resources (at Run, then every ResyncPeriod). Nothing runs before Run.
func New(metadataClient metadata.Interface, discoveryClient discovery.DiscoveryInterface, opts Options) *Controller {
	if opts.ResyncPeriod <= 0 {
		opts.ResyncPeriod = DefaultResyncPeriod
	}
	if opts.InitialSyncTimeout <= 0 {
		opts.InitialSyncTimeout = DefaultInitialSyncTimeout
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Controller{graph: newGraph(), absent: lru.New(absentOwnerCacheSize), opts: opts}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		// The kit's default rate limiter is upstream's queues' (5 ms to 1000 s, 10 qps).
		Synced: []cache.InformerSynced{c.synced},
		Background: []func(context.Context){
			func(ctx context.Context) { c.builder.run(ctx) },
			c.resyncLoop,
		},
	})
	logger := c.Logger()
	c.builder = &builder{graph: c.graph, absent: c.absent, recorder: opts.Recorder, logger: logger,
		changes: workqueue.NewTyped[*event](),
		enqueue: func(kind string, uid types.UID) { c.EnqueueKey(kind + "/" + string(uid)) },
		enqueueLater: func(kind string, uid types.UID) {
			c.EnqueueKeyAfter(kind+"/"+string(uid), time.Second)
		},
	}
	c.monitors = &monitors{metadata: metadataClient, discovery: discoveryClient, logger: logger, push: c.builder.push}
	c.client = &client{metadata: metadataClient, mon: c.monitors}
	return c
}

// Run implements controller.Controller: it discovers the resources,
// starts their informers, waits until they listed (at most
// InitialSyncTimeout), then runs the workers, the graph builder and the
// periodic discovery until ctx ends, and stops the informers.
func (c *Controller) Run(ctx context.Context, workers int) error {
	if workers < 1 {
		return c.Loop.Run(ctx, workers) // the kit's error
	}
	if !c.running.CompareAndSwap(false, true) {
		return fmt.Errorf("controller %s: Run called twice", Name)
	}
	c.started = c.opts.Clock.Now()
	if err := c.monitors.sync(ctx); err != nil {
		c.Logger().Error("discovery failed, collecting what was found", "err", err)
	}
	c.monitors.start(ctx)
	defer c.monitors.wait()
	return c.Loop.Run(ctx, workers)
}

// synced reports whether the informers listed, or the initial sync
// timeout passed.
func (c *Controller) synced() bool {
	if c.monitors.synced() {
		return true
	}
	if c.opts.Clock.Since(c.started) < c.opts.InitialSyncTimeout {
		return false
	}
	c.Logger().Warn("not every resource listed in time, collecting anyway", "timeout", c.opts.InitialSyncTimeout)
	return true
}

// resyncLoop asks discovery again every ResyncPeriod.
func (c *Controller) resyncLoop(ctx context.Context) {
	t := c.opts.Clock.NewTicker(c.opts.ResyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			if err := c.monitors.sync(ctx); err != nil && ctx.Err() == nil {
				c.Logger().Info("discovery failed, will retry", "err", err)
			}
		}
	}
}

// errNotObserved requeues a node only known as an owner: it stays in the
// queue until an informer delivered it (or it is found gone).
var errNotObserved = errors.New("not observed by an informer yet")

// sync processes "delete/<uid>" and "orphan/<uid>" keys.
func (c *Controller) sync(ctx context.Context, key string) error {
	kind, uid, ok := strings.Cut(key, "/")
	if !ok {
		return nil
	}
	n, ok := c.graph.get(types.UID(uid))
	if !ok {
		return nil
	}
	switch kind {
	case keyDelete:
		err := c.attemptToDelete(ctx, n)
		var mapping *restMappingError
		switch {
		case errors.Is(err, errVirtualDelete), errors.Is(err, errNamespacedOwnerOfClusterScoped):
			if errors.Is(err, errNamespacedOwnerOfClusterScoped) {
				c.Logger().Info("cluster-scoped object refers to a namespaced owner", "item", n.identity)
			}
			return nil
		case errors.As(err, &mapping):
			return fmt.Errorf("%s: %w", n.identity, err) // a kind discovery may learn later
		case err != nil:
			return fmt.Errorf("processing %s: %w", n.identity, err)
		case !c.graph.observed(n.identity.UID):
			return fmt.Errorf("%s: %w", n.identity, errNotObserved)
		}
		return nil
	case keyOrphan:
		return c.attemptToOrphan(ctx, n)
	}
	return nil
}

// errVirtualDelete: the object was found gone and a virtual deletion was
// queued for the graph builder; nothing to retry.
var errVirtualDelete = errors.New("virtual delete event queued")

// attemptToDelete looks at n's object live and deletes it when all its
// owners are gone, removes its references to gone owners when some live,
// or continues its foreground deletion; see the package comment.
func (c *Controller) attemptToDelete(ctx context.Context, n nodeView) error {
	logger := c.Logger()
	if n.beingDeleted && !n.deletingDependents {
		return nil // its deletion is under way; its dependents are processed once it is gone
	}
	latest, err := c.client.get(ctx, n.identity)
	if apierrors.IsNotFound(err) || (err == nil && latest.UID != n.identity.UID) {
		c.builder.virtualDelete(n.identity)
		return errVirtualDelete
	}
	if err != nil {
		return err
	}
	if n.deletingDependents {
		return c.processDeletingDependents(ctx, n)
	}
	refs := latest.OwnerReferences
	if len(refs) == 0 {
		return nil
	}
	solid, dangling, waiting, err := c.classifyReferences(ctx, n, refs)
	if err != nil {
		return err
	}
	switch {
	case len(solid) > 0:
		if len(dangling) == 0 && len(waiting) == 0 {
			return nil
		}
		// References to owners waiting for their dependents' deletion go
		// too, or those owners would never be deleted.
		uids := append(uidsOf(dangling), uidsOf(waiting)...)
		logger.Info("removing references to owners gone or deleting", "item", n.identity, "owners", uids)
		return c.client.removeOwnerReferences(ctx, n.identity, uids...)
	case len(waiting) > 0 && n.dependents > 0:
		for _, dep := range c.graph.dependents(n.identity.UID) {
			if dep.deletingDependents {
				// A possible cycle: the item stops blocking its owners
				// before its own foreground deletion.
				logger.Info("owner and dependent both delete in the foreground: unblocking the item's owner references", "item", n.identity, "dependent", dep.identity)
				if err := c.client.unblockOwnerReferences(ctx, n.identity); err != nil {
					return err
				}
				break
			}
		}
		logger.Info("deleting item in the foreground: an owner waits for its dependents and it has some", "item", n.identity)
		return c.deleteObject(ctx, n, latest, metav1.DeletePropagationForeground)
	default:
		policy := metav1.DeletePropagationBackground
		switch {
		case hasFinalizer(latest, finalizerOrphan):
			policy = metav1.DeletePropagationOrphan
		case hasFinalizer(latest, finalizerForeground):
			policy = metav1.DeletePropagationForeground
		}
		logger.Info("deleting item: none of its owners keeps it", "item", n.identity, "propagationPolicy", policy)
		return c.deleteObject(ctx, n, latest, policy)
	}
}

func (c *Controller) deleteObject(ctx context.Context, n nodeView, latest *metav1.PartialObjectMetadata, policy metav1.DeletionPropagation) error {
	err := c.client.delete(ctx, n.identity, latest.ResourceVersion, latest.OwnerReferences, policy)
	if apierrors.IsNotFound(err) {
		c.builder.virtualDelete(n.identity)
		return errVirtualDelete
	}
	return err
}

// processDeletingDependents removes the foregroundDeletion finalizer of n
// once no dependent blocks it, and queues the blocking dependents
// otherwise.
func (c *Controller) processDeletingDependents(ctx context.Context, n nodeView) error {
	blocking := c.graph.blockingDependents(n.identity.UID)
	if len(blocking) == 0 {
		c.Logger().Info("no blocking dependent left: removing the foregroundDeletion finalizer", "item", n.identity)
		return c.client.removeFinalizer(ctx, n.identity, finalizerForeground)
	}
	for _, dep := range blocking {
		if !dep.deletingDependents {
			c.builder.enqueue(keyDelete, dep.identity.UID)
		}
	}
	return nil
}

// classifyReferences sorts refs into solid (the owner exists and is not
// deleting its dependents in the foreground), dangling (the owner does not
// exist) and waiting (the owner deletes its dependents in the foreground).
func (c *Controller) classifyReferences(ctx context.Context, n nodeView, refs []metav1.OwnerReference) (solid, dangling, waiting []metav1.OwnerReference, err error) {
	for _, ref := range refs {
		isDangling, owner, err := c.isDangling(ctx, ref, n)
		if err != nil {
			return nil, nil, nil, err
		}
		switch {
		case isDangling:
			dangling = append(dangling, ref)
		case owner.DeletionTimestamp != nil && hasFinalizer(owner, finalizerForeground):
			waiting = append(waiting, ref)
		default:
			solid = append(solid, ref)
		}
	}
	return solid, dangling, waiting, nil
}

// isDangling reports whether ref names an owner that does not exist: one
// remembered absent, or one a live read does not find (or finds with
// another uid). A namespaced owner is looked up in the dependent's
// namespace, a cluster-scoped one without; a cluster-scoped dependent
// naming a namespaced owner is errNamespacedOwnerOfClusterScoped.
func (c *Controller) isDangling(ctx context.Context, ref metav1.OwnerReference, n nodeView) (bool, *metav1.PartialObjectMetadata, error) {
	key := ownerRef(ref, "")
	if _, ok := c.absent.Get(key); ok {
		return true, nil, nil
	}
	key.Namespace = n.identity.Namespace
	if _, ok := c.absent.Get(key); ok {
		return true, nil, nil
	}
	_, namespaced, err := c.monitors.resource(ref.APIVersion, ref.Kind)
	if err != nil {
		return false, nil, err
	}
	if !namespaced {
		key.Namespace = ""
	}
	owner, err := c.client.get(ctx, key)
	switch {
	case apierrors.IsNotFound(err):
		c.absent.Add(key, struct{}{})
		return true, nil, nil
	case err != nil:
		return false, nil, err
	case owner.UID != ref.UID:
		c.absent.Add(key, struct{}{})
		return true, nil, nil
	}
	return false, owner, nil
}

// attemptToOrphan removes n's uid from the ownerReferences of each of its
// dependents, then n's orphan finalizer.
func (c *Controller) attemptToOrphan(ctx context.Context, n nodeView) error {
	var errs []error
	for _, dep := range c.graph.dependents(n.identity.UID) {
		if err := c.client.removeOwnerReferences(ctx, dep.identity, n.identity.UID); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("orphaning the dependents of %s: %w", n.identity, utilerrors.NewAggregate(errs))
	}
	if err := c.client.removeFinalizer(ctx, n.identity, finalizerOrphan); err != nil {
		return err
	}
	c.Logger().Info("dependents orphaned", "owner", n.identity)
	return nil
}

func hasFinalizer(m *metav1.PartialObjectMetadata, f string) bool {
	for _, x := range m.Finalizers {
		if x == f {
			return true
		}
	}
	return false
}

func uidsOf(refs []metav1.OwnerReference) []types.UID {
	out := make([]types.UID, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.UID)
	}
	return out
}
