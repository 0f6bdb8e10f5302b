package namespace

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/discovery"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's name in --controllers.
const Name = "namespace"

// Upstream's defaults.
const (
	// DefaultConcurrentSyncs is --concurrent-namespace-syncs: the workers
	// a controller manager should give Run.
	DefaultConcurrentSyncs = 10
	// DefaultResyncPeriod is --namespace-sync-period.
	DefaultResyncPeriod = 5 * time.Minute
	// DefaultDeletionGracePeriod is the wait between a namespace event and
	// its sync, so that every apiserver of an HA control plane has seen the
	// deletion (and refuses new content) and late creations are visible.
	DefaultDeletionGracePeriod = 5 * time.Second
)

// Options tune a Controller; the zero value means upstream's defaults.
type Options struct {
	// ResyncPeriod is how often every namespace being deleted is queued
	// again; zero means DefaultResyncPeriod.
	ResyncPeriod time.Duration
	// DeletionGracePeriod delays the sync after a namespace event; zero
	// means DefaultDeletionGracePeriod, a negative value no delay.
	DeletionGracePeriod time.Duration
}

// Controller empties namespaces being deleted and finalizes them; see the
// package comment. Run it with DefaultConcurrentSyncs workers.
type Controller struct {
	*controller.Loop
	client     kubernetes.Interface
	metadata   metadata.Interface
	discovery  discovery.DiscoveryInterface
	namespaces corelisters.NamespaceLister
	clock      clock.WithTicker
	grace      time.Duration
}

// New returns the namespace controller. client reads namespaces and pods
// and writes namespaces/status and namespaces/finalize; metadataClient
// deletes and lists every namespaced resource; discoveryClient finds them
// (every sync asks it afresh: resources come and go). namespaces is the
// shared informer the controller is driven by (the caller starts its
// factory). logger nil discards; clk nil means the real clock: it drives
// the delayed and periodic syncs and stamps the conditions.
func New(client kubernetes.Interface, metadataClient metadata.Interface, discoveryClient discovery.DiscoveryInterface,
	namespaces coreinformers.NamespaceInformer, logger *slog.Logger, clk clock.WithTicker, opts Options) *Controller {
	if clk == nil {
		clk = clock.RealClock{}
	}
	if opts.ResyncPeriod <= 0 {
		opts.ResyncPeriod = DefaultResyncPeriod
	}
	if opts.DeletionGracePeriod == 0 {
		opts.DeletionGracePeriod = DefaultDeletionGracePeriod
	}
	c := &Controller{client: client, metadata: metadataClient, discovery: discoveryClient,
		namespaces: namespaces.Lister(), clock: clk, grace: max(opts.DeletionGracePeriod, 0)}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: logger, Clock: clk,
		Synced:      []cache.InformerSynced{namespaces.Informer().HasSynced},
		RateLimiter: rateLimiter(),
		Background:  []func(context.Context){controller.Every(clk, opts.ResyncPeriod, c.resync)},
	})
	_, _ = namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	return c
}

// rateLimiter is upstream's: failures back off exponentially from 5 ms but
// never beyond a minute, at 10 retries a second overall (burst 100).
func rateLimiter() workqueue.TypedRateLimiter[string] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[string](5*time.Millisecond, time.Minute),
		&workqueue.TypedBucketRateLimiter[string]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}

// enqueue queues a namespace being deleted, after the grace period.
func (c *Controller) enqueue(obj any) {
	ns, ok := controller.Object[*corev1.Namespace](obj)
	if !ok || ns.DeletionTimestamp == nil {
		return
	}
	c.EnqueueAfter(ns, c.grace)
}

// resync queues every namespace being deleted.
func (c *Controller) resync(context.Context) {
	all, err := c.namespaces.List(labels.Everything())
	if err != nil {
		c.Logger().Error("listing namespaces", "err", err)
		return
	}
	for _, ns := range all {
		c.enqueue(ns)
	}
}

// sync deletes the content of the namespace key names, if it is being
// deleted, and finalizes it once empty. While content remains it queues
// the namespace again after half the estimate (and returns nil: nothing
// failed); an error is retried with backoff.
func (c *Controller) sync(ctx context.Context, key string) error {
	cached, err := c.namespaces.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if cached.DeletionTimestamp == nil {
		return nil
	}
	start := c.clock.Now()
	estimate, err := c.syncNamespace(ctx, key)
	if err != nil {
		return fmt.Errorf("deleting namespace %s: %w", key, err)
	}
	if estimate > 0 {
		wait := time.Duration(estimate/2+1) * time.Second
		c.Logger().Debug("content remains in namespace", "namespace", key, "estimateSeconds", estimate, "retryIn", wait)
		c.EnqueueKeyAfter(key, wait)
		return nil
	}
	c.Logger().Debug("namespace synced", "namespace", key, "took", c.clock.Since(start))
	return nil
}

// syncNamespace works on a fresh read of the namespace: it makes sure the
// phase is Terminating, deletes the content, and finalizes the namespace
// when nothing is left. It returns the seconds the remaining content is
// expected to take (0 once the namespace is finalized or gone).
func (c *Controller) syncNamespace(ctx context.Context, name string) (int64, error) {
	ns, err := c.client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if ns.DeletionTimestamp == nil {
		return 0, nil
	}
	ns, err = c.updateNamespace(ctx, ns, c.markTerminating)
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("setting phase Terminating: %w", err)
	}
	if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return 0, nil // finalized: the other finalizers' owners and the apiserver go on
	}
	ns, estimate, err := c.deleteAllContent(ctx, ns)
	if err != nil || estimate > 0 {
		return estimate, err
	}
	if _, err := c.updateNamespace(ctx, ns, c.finalize); err != nil && !apierrors.IsNotFound(err) {
		return 0, fmt.Errorf("finalizing: %w", err)
	}
	c.Logger().Info("namespace emptied and finalized", "namespace", name)
	return 0, nil
}

// markTerminating sets phase Terminating through namespaces/status unless
// it is already.
func (c *Controller) markTerminating(ctx context.Context, ns *corev1.Namespace) (*corev1.Namespace, error) {
	if ns.Status.Phase == corev1.NamespaceTerminating {
		return ns, nil
	}
	next := ns.DeepCopy()
	next.Status.Phase = corev1.NamespaceTerminating
	return c.client.CoreV1().Namespaces().UpdateStatus(ctx, next, metav1.UpdateOptions{})
}

// finalize removes "kubernetes" from spec.finalizers through
// namespaces/finalize (the others stay, sorted and without duplicates, as
// upstream writes them).
func (c *Controller) finalize(ctx context.Context, ns *corev1.Namespace) (*corev1.Namespace, error) {
	if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return ns, nil
	}
	next := ns.DeepCopy()
	next.Spec.Finalizers = nil
	for _, f := range ns.Spec.Finalizers {
		if f != corev1.FinalizerKubernetes && !slices.Contains(next.Spec.Finalizers, f) {
			next.Spec.Finalizers = append(next.Spec.Finalizers, f)
		}
	}
	slices.Sort(next.Spec.Finalizers)
	return c.client.CoreV1().Namespaces().Finalize(ctx, next, metav1.UpdateOptions{})
}

// writeConditions writes conds into ns's status when that changes it, and
// returns the namespace as stored. A failed write is logged, not returned
// (as upstream): the conditions are informative, the next sync writes them.
func (c *Controller) writeConditions(ctx context.Context, ns *corev1.Namespace, conds *conditions) *corev1.Namespace {
	out, err := c.updateNamespace(ctx, ns, func(ctx context.Context, ns *corev1.Namespace) (*corev1.Namespace, error) {
		next := ns.DeepCopy()
		if !conds.apply(&next.Status) {
			return ns, nil
		}
		return c.client.CoreV1().Namespaces().UpdateStatus(ctx, next, metav1.UpdateOptions{})
	})
	if err != nil {
		c.Logger().Error("updating the namespace's conditions", "namespace", ns.Name, "err", err)
		return ns
	}
	return out
}

// conflictRetries bounds updateNamespace's fresh reads after a conflict;
// past it the sync fails and is retried with backoff.
const conflictRetries = 5

// updateNamespace applies write to ns; after a conflict it reads the
// namespace afresh and applies write again. The namespace being replaced
// by another of the same name (a new uid) is an error.
func (c *Controller) updateNamespace(ctx context.Context, ns *corev1.Namespace,
	write func(context.Context, *corev1.Namespace) (*corev1.Namespace, error)) (*corev1.Namespace, error) {
	for attempt := 0; ; attempt++ {
		out, err := write(ctx, ns)
		if !apierrors.IsConflict(err) || attempt == conflictRetries {
			return out, err
		}
		fresh, err := c.client.CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if fresh.UID != ns.UID {
			return nil, fmt.Errorf("namespace %s was replaced (uid %s, was %s)", ns.Name, fresh.UID, ns.UID)
		}
		ns = fresh
	}
}
