// Package endpointslice is kinc's "endpointslice" controller (upstream's
// endpointslice-controller): for every Service with a selector it keeps
// discovery.k8s.io/v1 EndpointSlices listing the pods the selector matches,
// which is what kube-proxy and CoreDNS read.
//
// The slices are named "<service>-<random>" (generateName), labelled with
// the Service's labels, kubernetes.io/service-name=<service>,
// endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io
// and service.kubernetes.io/headless for a Service without a cluster IP,
// annotated with endpoints.kubernetes.io/last-change-trigger-time, and owned
// by the Service (controller ownerReference). There is one group of slices
// per address type of the Service (its IP families) and set of ports
// (targetPorts resolved on each pod), each slice holding at most
// --max-endpoints-per-slice endpoints; an address type without endpoints
// keeps one empty placeholder slice. A pod that is not terminal and has an
// IP of the family is an endpoint, also while terminating, with upstream's
// conditions (serving: the pod's Ready condition; terminating: being
// deleted; ready: serving and not terminating, or always when the Service
// publishes not ready addresses), its nodeName, the node's
// topology.kubernetes.io/zone, its hostname when its subdomain names the
// Service, and a targetRef. Updates change as few slices as upstream's
// reconciler does (see reconcile). Topology hints are not written.
//
// Services of type ExternalName or without a selector are left alone.
// Slices whose Service is gone are deleted (upstream leaves that to the
// garbage collector through the ownerReference; deleting them here gives
// the same result without one, and orphaned slices — no owner — are left
// alone as the garbage collector leaves them). Pod changes reach a Service
// after --endpointslice-updates-batch-period; slice changes not made by the
// controller after at least a second. A failed sync records a
// FailedToUpdateEndpointSlices warning event on the Service, as upstream.
package endpointslice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/endpoints"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "endpointslice-controller").
const Name = "endpointslice"

// Upstream's constants.
const (
	// ControllerName is the value of the managed-by label of the slices
	// the controller writes.
	ControllerName = "endpointslice-controller.k8s.io"
	// EventComponent is the source component of the controller's events.
	EventComponent = "endpoint-slice-controller"
	// DefaultConcurrentSyncs is --concurrent-service-endpoint-syncs'
	// default, DefaultMaxEndpointsPerSlice --max-endpoints-per-slice's.
	DefaultConcurrentSyncs      = 5
	DefaultMaxEndpointsPerSlice = 100
	// sliceChangeMinDelay is the least delay before a Service is synced
	// after a change to one of its slices, to batch them.
	sliceChangeMinDelay = time.Second
)

// ErrStaleCache is returned by a sync whose slice cache lags behind the
// controller's own writes; the Service is retried.
var ErrStaleCache = errors.New("EndpointSlice informer cache is out of date")

// Options configure a Controller.
type Options struct {
	// MaxEndpointsPerSlice is --max-endpoints-per-slice; 0 means 100.
	MaxEndpointsPerSlice int
	// BatchPeriod delays the sync of a Service after a pod change
	// (--endpointslice-updates-batch-period); 0 syncs at once.
	BatchPeriod time.Duration
	// Recorder records the controller's events; nil drops them.
	Recorder record.EventRecorder
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries and delays; nil means the real clock.
	Clock clock.WithTicker
}

// Controller keeps the EndpointSlices of Services with a selector. Its
// queue keys are Service keys ("namespace/name"). Run (from the embedded
// Loop) runs it.
type Controller struct {
	*controller.Loop
	client      kubernetes.Interface
	services    corelisters.ServiceLister
	pods        corelisters.PodLister
	nodes       corelisters.NodeLister
	slices      discoverylisters.EndpointSliceLister
	recorder    record.EventRecorder
	tracker     *sliceTracker
	triggers    *endpoints.TriggerTimeTracker
	maxPerSlice int
	batch       time.Duration
}

// New returns a Controller reading pods, Services, nodes and EndpointSlices
// through the given informers (whose factory the caller starts) and
// writing through client.
func New(client kubernetes.Interface, pods coreinformers.PodInformer, services coreinformers.ServiceInformer, nodes coreinformers.NodeInformer,
	endpointSlices discoveryinformers.EndpointSliceInformer, opts Options) *Controller {
	c := &Controller{client: client, services: services.Lister(), pods: pods.Lister(), nodes: nodes.Lister(), slices: endpointSlices.Lister(),
		recorder: opts.Recorder, tracker: newSliceTracker(), triggers: endpoints.NewTriggerTimeTracker(),
		maxPerSlice: opts.MaxEndpointsPerSlice, batch: opts.BatchPeriod}
	if c.maxPerSlice <= 0 {
		c.maxPerSlice = DefaultMaxEndpointsPerSlice
	}
	if c.recorder == nil {
		c.recorder = &record.FakeRecorder{} // without a channel: drops events
	}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		MaxRetries: controller.DefaultMaxRetries,
		// As upstream: a failed Service waits 1s, 2s, 4s… up to 1000s,
		// and retries overall at most 10 per second (bursts of 100).
		RateLimiter: workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, 1000*time.Second),
			&workqueue.TypedBucketRateLimiter[string]{Limiter: rate.NewLimiter(rate.Limit(10), 100)}),
		Synced: []cache.InformerSynced{pods.Informer().HasSynced, services.Informer().HasSynced,
			nodes.Informer().HasSynced, endpointSlices.Informer().HasSynced}})
	_, _ = services.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{}))
	_, _ = pods.Informer().AddEventHandler(endpoints.PodHandler(c.services, func(key string) { c.EnqueueKeyAfter(key, c.batch) }, c.Logger()))
	_, _ = endpointSlices.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onSliceAdd,
		UpdateFunc: c.onSliceUpdate,
		DeleteFunc: c.onSliceDelete,
	})
	return c
}

func managedByUs(s *discoveryv1.EndpointSlice) bool {
	return s.Labels[discoveryv1.LabelManagedBy] == ControllerName
}

// onSliceAdd syncs the Service of a slice of ours the controller did not
// just write itself.
func (c *Controller) onSliceAdd(obj any) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if ok && managedByUs(s) && c.tracker.shouldSync(s) {
		c.enqueueServiceOf(s)
	}
}

// onSliceUpdate syncs the Service(s) of a slice whose service-name label
// changed, that became or stopped being ours, or that someone else
// changed.
func (c *Controller) onSliceUpdate(oldObj, newObj any) {
	prev, ok1 := oldObj.(*discoveryv1.EndpointSlice)
	cur, ok2 := newObj.(*discoveryv1.EndpointSlice)
	if !ok1 || !ok2 {
		return
	}
	if prev.Labels[discoveryv1.LabelServiceName] != cur.Labels[discoveryv1.LabelServiceName] {
		c.enqueueServiceOf(cur)
		c.enqueueServiceOf(prev)
		return
	}
	if managedByUs(prev) != managedByUs(cur) || (managedByUs(cur) && c.tracker.shouldSync(cur)) {
		c.enqueueServiceOf(cur)
	}
}

// onSliceDelete syncs the Service of a slice of ours that someone else
// deleted.
func (c *Controller) onSliceDelete(obj any) {
	s, ok := controller.Object[*discoveryv1.EndpointSlice](obj)
	if ok && managedByUs(s) && c.tracker.has(s) && !c.tracker.handleDeletion(s) {
		c.enqueueServiceOf(s)
	}
}

func (c *Controller) enqueueServiceOf(s *discoveryv1.EndpointSlice) {
	key, ok := serviceKeyOf(s)
	if !ok {
		c.Logger().Debug("endpoint slice without a service-name label", "slice", s.Namespace+"/"+s.Name)
		return
	}
	c.EnqueueKeyAfter(key, max(sliceChangeMinDelay, c.batch))
}

// sync brings the slices of the Service named key to what its pods say.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.triggers.Forget(ns, name)
		c.tracker.forgetService(ns, name)
		return c.deleteOrphans(ctx, ns, name)
	}
	if err != nil {
		return err
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Selector == nil {
		return nil
	}
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
	if err != nil {
		return err
	}
	existing, err := c.managedSlices(ns, name)
	if err != nil {
		return err
	}
	if c.tracker.stale(svc, existing) {
		return ErrStaleCache
	}
	// Computed before knowing whether anything changes, so that the
	// tracker sees every sync.
	trigger := c.triggers.Compute(svc, pods)
	if err := c.reconcile(ctx, svc, pods, existing, trigger); err != nil {
		c.recorder.Eventf(svc, corev1.EventTypeWarning, "FailedToUpdateEndpointSlices",
			"Error updating Endpoint Slices for Service %s/%s: %v", ns, name, err)
		return err
	}
	return nil
}

// managedSlices returns the cached slices of the Service ns/name that the
// controller manages and that are not being deleted.
func (c *Controller) managedSlices(ns, name string) ([]*discoveryv1.EndpointSlice, error) {
	all, err := c.slices.EndpointSlices(ns).List(labels.SelectorFromValidatedSet(labels.Set{
		discoveryv1.LabelServiceName: name, discoveryv1.LabelManagedBy: ControllerName}))
	if err != nil {
		return nil, err
	}
	out := make([]*discoveryv1.EndpointSlice, 0, len(all))
	for _, s := range all {
		if s.DeletionTimestamp == nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// deleteOrphans deletes the managed slices of the Service ns/name, which is
// gone, that a Service of that name owns (as the garbage collector would).
func (c *Controller) deleteOrphans(ctx context.Context, ns, name string) error {
	existing, err := c.managedSlices(ns, name)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range existing {
		owned := false
		for _, o := range s.OwnerReferences {
			owned = owned || (o.APIVersion == "v1" && o.Kind == "Service" && o.Name == name)
		}
		if !owned {
			continue
		}
		if err := c.client.DiscoveryV1().EndpointSlices(ns).Delete(ctx, s.Name, deleteIfUID(s)); err != nil &&
			!apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("deleting EndpointSlice %s/%s of deleted Service %s: %w", ns, s.Name, name, err))
		}
	}
	return errors.Join(errs...)
}

// deleteIfUID deletes the object only if it is still s (not a new object
// of the same name).
func deleteIfUID(s *discoveryv1.EndpointSlice) metav1.DeleteOptions {
	uid := s.UID
	return metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}
}
