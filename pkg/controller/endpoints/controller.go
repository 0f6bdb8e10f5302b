// Package endpoints is kinc's "endpoint" controller (upstream's
// endpoints-controller, whose older name --controllers also accepts): for
// every Service with a selector it keeps an Endpoints object of the same
// name listing the pods the selector matches.
//
// A pod that is not terminal and has an IP (of the Service's first IP
// family) is an address: in addresses when its Ready condition is True or
// the Service publishes not ready addresses, in notReadyAddresses
// otherwise; a pod being deleted is left out unless the Service publishes
// not ready addresses. Each address carries the pod's node name, a
// targetRef to the pod, and its hostname when the pod's subdomain names the
// Service. Ports are the Service's, with targetPorts resolved on each pod
// (a named port the pod lacks leaves the pod out of that port); a headless
// Service without ports lists its addresses without ports. Subsets are
// packed as upstream packs them (each set of addresses once, with all the
// ports it offers).
//
// The Endpoints carry the Service's labels, endpoints.kubernetes.io/managed-by=endpoint-controller,
// service.kubernetes.io/headless for a Service without a cluster IP, the
// endpoints.kubernetes.io/last-change-trigger-time annotation, and
// endpoints.kubernetes.io/over-capacity=truncated when more than 1000
// addresses had to be cut. They are deleted when the Service is; Services
// of type ExternalName or without a selector are left alone (their
// Endpoints are the user's). Pod changes reach a Service after the batch
// period (--endpoint-updates-batch-period). When the Endpoints cannot be
// written, a FailedToCreateEndpoint or FailedToUpdateEndpoint warning
// event is recorded on them, as upstream.
package endpoints

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "endpoints-controller").
const Name = "endpoint"

// Upstream's constants.
const (
	// ControllerName is the value of LabelManagedBy on the Endpoints the
	// controller writes, and the component of its events.
	ControllerName = "endpoint-controller"
	// LabelManagedBy marks the Endpoints the controller manages.
	LabelManagedBy = "endpoints.kubernetes.io/managed-by"
	// OverCapacityTruncated is the value of corev1.EndpointsOverCapacity
	// on Endpoints cut to MaxCapacity addresses.
	OverCapacityTruncated = "truncated"
	// DefaultConcurrentSyncs is --concurrent-endpoint-syncs' default.
	DefaultConcurrentSyncs = 5
)

// Options configure a Controller.
type Options struct {
	// BatchPeriod delays the sync of a Service after a pod change, to join
	// it with the next ones (--endpoint-updates-batch-period); 0 syncs at
	// once.
	BatchPeriod time.Duration
	// Recorder records the controller's events; nil drops them.
	Recorder record.EventRecorder
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries and the batch period; nil means the real clock.
	Clock clock.WithTicker
}

// Controller keeps the Endpoints of Services with a selector. Its queue
// keys are Service keys ("namespace/name"). Run (from the embedded Loop)
// runs it.
type Controller struct {
	*controller.Loop
	client    kubernetes.Interface
	services  corelisters.ServiceLister
	pods      corelisters.PodLister
	endpoints corelisters.EndpointsLister
	recorder  record.EventRecorder
	triggers  *TriggerTimeTracker
	stale     staleTracker
	batch     time.Duration
}

// New returns a Controller reading pods, Services and Endpoints through the
// given informers (whose factory the caller starts) and writing through
// client.
func New(client kubernetes.Interface, pods coreinformers.PodInformer, services coreinformers.ServiceInformer, endpoints coreinformers.EndpointsInformer, opts Options) *Controller {
	c := &Controller{client: client, services: services.Lister(), pods: pods.Lister(), endpoints: endpoints.Lister(),
		recorder: opts.Recorder, triggers: NewTriggerTimeTracker(), stale: staleTracker{versions: map[types.NamespacedName]string{}},
		batch: opts.BatchPeriod}
	if c.recorder == nil {
		c.recorder = &record.FakeRecorder{} // without a channel: drops events
	}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		MaxRetries: controller.DefaultMaxRetries,
		Synced:     []cache.InformerSynced{pods.Informer().HasSynced, services.Informer().HasSynced, endpoints.Informer().HasSynced},
		Background: []func(context.Context){c.enqueueLeftovers}})
	_, _ = services.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{}))
	_, _ = pods.Informer().AddEventHandler(PodHandler(c.services, func(key string) { c.EnqueueKeyAfter(key, c.batch) }, c.Logger()))
	// Endpoints deleted by someone else are recreated (or, without a
	// Service, were meant to go).
	_, _ = endpoints.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.Enqueue})
	return c
}

// enqueueLeftovers enqueues every Endpoints once the caches synced, so
// that those whose Service was deleted while no controller ran are deleted
// too. Leader election records kept in Endpoints (by old components) are
// skipped, as upstream.
func (c *Controller) enqueueLeftovers(context.Context) {
	list, err := c.endpoints.List(labels.Everything())
	if err != nil {
		c.Logger().Error("cannot list endpoints: orphaned endpoints are not cleaned up", "err", err)
		return
	}
	for _, ep := range list {
		if _, ok := ep.Annotations[resourcelock.LeaderElectionRecordAnnotationKey]; ok {
			continue
		}
		c.Enqueue(ep)
	}
}

// sync brings the Endpoints of the Service named key to what its pods say.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return err
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		// The Service is gone: so are its Endpoints (a Service deleted
		// while no controller ran is found by enqueueLeftovers).
		err := c.client.CoreV1().Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting endpoints %s: %w", key, err)
		}
		c.triggers.Forget(ns, name)
		c.stale.forget(ns, name)
		return nil
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
	// Computed before knowing whether anything changes, so that the
	// tracker sees every sync.
	trigger := c.triggers.Compute(svc, pods)
	subsets, truncated := truncate(c.desiredSubsets(svc, pods))

	current, err := c.endpoints.Endpoints(ns).Get(name)
	create := apierrors.IsNotFound(err)
	switch {
	case create:
		current = &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	case err != nil:
		return err
	case c.stale.isStale(current):
		return fmt.Errorf("endpoints informer cache is out of date: resource version %s of %s already replaced", current.ResourceVersion, key)
	}
	wantLabels := endpointsLabels(svc)
	_, annotated := current.Annotations[corev1.EndpointsOverCapacity]
	if !create && (subsetsEqual(current.Subsets, subsets) || subsetsEqual(RepackSubsets(current.Subsets), subsets)) &&
		maps.Equal(current.Labels, wantLabels) && annotated == truncated {
		return nil
	}

	ep := current.DeepCopy()
	ep.Subsets = subsets
	ep.Labels = wantLabels
	if ep.Annotations == nil {
		ep.Annotations = map[string]string{}
	}
	if trigger.IsZero() {
		delete(ep.Annotations, corev1.EndpointsLastChangeTriggerTime)
	} else {
		ep.Annotations[corev1.EndpointsLastChangeTriggerTime] = trigger.UTC().Format(time.RFC3339Nano)
	}
	if truncated {
		ep.Annotations[corev1.EndpointsOverCapacity] = OverCapacityTruncated
	} else {
		delete(ep.Annotations, corev1.EndpointsOverCapacity)
	}
	ready, notReady := countAddresses(subsets)
	c.Logger().Debug("writing endpoints", "service", key, "create", create, "ready", ready, "notReady", notReady)
	if create {
		_, err = c.client.CoreV1().Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{})
		if err == nil {
			return nil
		}
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil // creates will keep failing: the namespace is going
		}
		c.recorder.Eventf(ep, corev1.EventTypeWarning, "FailedToCreateEndpoint", "Failed to create endpoint for service %v/%v: %v", ns, name, err)
		return fmt.Errorf("creating endpoints %s: %w", key, err)
	}
	updated, err := c.client.CoreV1().Endpoints(ns).Update(ctx, ep, metav1.UpdateOptions{})
	if err != nil {
		c.recorder.Eventf(ep, corev1.EventTypeWarning, "FailedToUpdateEndpoint", "Failed to update endpoint %v/%v: %v", ns, name, err)
		return fmt.Errorf("updating endpoints %s: %w", key, err)
	}
	if updated.ResourceVersion != current.ResourceVersion {
		// Until the cache has the new version, what it has is stale.
		c.stale.mark(current)
	}
	return nil
}

// desiredSubsets returns svc's subsets from pods, packed.
func (c *Controller) desiredSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	publishNotReady := svc.Spec.PublishNotReadyAddresses
	var subsets []corev1.EndpointSubset
	for _, pod := range pods {
		if !PodIncluded(pod, publishNotReady) {
			continue
		}
		addr, ok := podAddress(svc, pod)
		if !ok {
			c.Logger().Debug("no pod IP of the service's IP family", "service", svc.Namespace+"/"+svc.Name, "pod", pod.Name)
			continue
		}
		ready := publishNotReady || IsPodReady(pod)
		subset := func(ports []corev1.EndpointPort) corev1.EndpointSubset {
			if ready {
				return corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{addr}, Ports: ports}
			}
			return corev1.EndpointSubset{NotReadyAddresses: []corev1.EndpointAddress{addr}, Ports: ports}
		}
		if len(svc.Spec.Ports) == 0 {
			if svc.Spec.ClusterIP == corev1.ClusterIPNone { // headless Services may have no ports
				subsets = append(subsets, subset(nil))
			}
			continue
		}
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			port, err := FindPort(pod, sp)
			if err != nil {
				c.Logger().Debug("pod left out of a service port", "service", svc.Namespace+"/"+svc.Name, "err", err)
				continue
			}
			subsets = append(subsets, subset([]corev1.EndpointPort{{Name: sp.Name, Port: port, Protocol: sp.Protocol, AppProtocol: sp.AppProtocol}}))
		}
	}
	return RepackSubsets(subsets)
}

// podAddress returns pod's address for svc: its IP of svc's first IP
// family (from spec.ipFamilies, else the cluster IP's, else the pod IP's).
func podAddress(svc *corev1.Service, pod *corev1.Pod) (corev1.EndpointAddress, bool) {
	var ipv6 bool
	switch {
	case len(svc.Spec.IPFamilies) > 0:
		ipv6 = svc.Spec.IPFamilies[0] == corev1.IPv6Protocol
	case svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone:
		ipv6 = IsIPv6String(svc.Spec.ClusterIP)
	default:
		ipv6 = IsIPv6String(pod.Status.PodIP)
	}
	ips := PodIPs(pod, ipv6)
	if len(ips) == 0 {
		return corev1.EndpointAddress{}, false
	}
	addr := corev1.EndpointAddress{
		IP:        ips[0],
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		nodeName := pod.Spec.NodeName
		addr.NodeName = &nodeName
	}
	if ShouldSetHostname(pod, svc) {
		addr.Hostname = pod.Spec.Hostname
	}
	return addr, true
}

// endpointsLabels returns the labels svc's Endpoints carry: svc's own,
// the managed-by label, and the headless label when svc has no cluster IP.
func endpointsLabels(svc *corev1.Service) map[string]string {
	out := maps.Clone(svc.Labels)
	if out == nil {
		out = map[string]string{}
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone || svc.Spec.ClusterIP == "" {
		out[corev1.IsHeadlessService] = ""
	} else {
		delete(out, corev1.IsHeadlessService)
	}
	out[LabelManagedBy] = ControllerName
	return out
}

// staleTracker remembers, per Endpoints, the resourceVersion an update of
// ours replaced: the cache holding that version has not caught up yet.
type staleTracker struct {
	mu       sync.Mutex
	versions map[types.NamespacedName]string
}

func (t *staleTracker) mark(ep *corev1.Endpoints) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.versions[types.NamespacedName{Namespace: ep.Namespace, Name: ep.Name}] = ep.ResourceVersion
}

func (t *staleTracker) isStale(ep *corev1.Endpoints) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	v, ok := t.versions[types.NamespacedName{Namespace: ep.Namespace, Name: ep.Name}]
	return ok && v == ep.ResourceVersion
}

func (t *staleTracker) forget(namespace, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.versions, types.NamespacedName{Namespace: namespace, Name: name})
}
