// Package replicaset is kinc's "replicaset" controller (upstream's
// replicaset-controller): it keeps spec.replicas pods matching each
// ReplicaSet's selector, owned by it through a controller ownerReference.
//
// Per sync of a ReplicaSet: orphan pods its selector matches are adopted
// and owned pods it no longer matches are released (strategic merge
// patches of their ownerReferences, as upstream's ControllerRefManager);
// missing pods are created from the template in slow-start batches (1, 2,
// 4… while they succeed), surplus pods are deleted, the ones upstream
// ranks first (unassigned, pending, not ready, low deletion cost, doubled
// up, ready for less time, restarted more, newer); at most BurstReplicas
// per sync. Expectations hold further creates and deletes back until the
// informer has shown the previous ones, so a stale cache never creates
// duplicates. The status (replicas, fullyLabeledReplicas, readyReplicas,
// availableReplicas after minReadySeconds, terminatingReplicas,
// observedGeneration and the ReplicaFailure condition) is written through
// /status when it changed, a conflict retried once from a fresh read.
// Events are upstream's: SuccessfulCreate "Created pod: <name>",
// SuccessfulDelete "Deleted pod: <name>", FailedCreate "Error creating:
// <err>", FailedDelete "Error deleting: <err>".
package replicaset

import (
	"context"
	"log/slog"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "replicaset-controller").
const Name = "replicaset"

// Component is the event source upstream's controller records events as.
const Component = "replicaset-controller"

// DefaultConcurrentSyncs is upstream's --concurrent-replicaset-syncs.
const DefaultConcurrentSyncs = 5

// BurstReplicas is upstream's limit of pods created or deleted by one sync.
const BurstReplicas = 500

// Event reasons, as upstream's.
const (
	ReasonSuccessfulCreate = "SuccessfulCreate"
	ReasonFailedCreate     = "FailedCreate"
	ReasonSuccessfulDelete = "SuccessfulDelete"
	ReasonFailedDelete     = "FailedDelete"
)

// Kind is the GroupVersionKind of the objects this controller owns pods
// for.
var Kind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

// Options configure a Controller.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries, expectations, availability and condition
	// times; nil means the real clock.
	Clock clock.WithTicker
	// Recorder records the events; nil records none.
	Recorder record.EventRecorder
	// BurstReplicas bounds the creates or deletes of one sync; 0 means
	// BurstReplicas.
	BurstReplicas int
	// MaxInFlight bounds the creates or deletes of one sync that are in
	// flight at once; 0 means DefaultMaxInFlight.
	MaxInFlight int
}

// DefaultMaxInFlight is how many pod creates or deletes one sync has in
// flight at most. Upstream sends a whole slow-start batch at once (up to
// 256, then the rest of BurstReplicas), throttled in practice by the
// client's rate limit (--kube-api-qps 20, burst 30); without that limit
// a batch above the apiserver's --max-mutating-requests-inflight (200)
// is answered 429 with Retry-After: 1 and stalls a second. Batches keep
// their sizes; only their concurrency is bounded.
const DefaultMaxInFlight = 64

// Controller is the replicaset controller. Its queue keys are
// "namespace/name" of ReplicaSets. Run (from the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client       kubernetes.Interface
	rsLister     appslisters.ReplicaSetLister
	podLister    corelisters.PodLister
	podIndexer   cache.Indexer
	recorder     record.EventRecorder
	clock        clock.WithTicker
	expectations *Expectations
	burst        int
	inFlight     int
}

// New returns a Controller reading ReplicaSets and pods through the given
// informers (whose factory the caller starts; New adds the pod informer's
// controller index, see AddPodControllerIndex) and writing through client.
func New(client kubernetes.Interface, rss appsinformers.ReplicaSetInformer, pods coreinformers.PodInformer, opts Options) (*Controller, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	if opts.BurstReplicas <= 0 {
		opts.BurstReplicas = BurstReplicas
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = DefaultMaxInFlight
	}
	if err := AddPodControllerIndex(pods.Informer()); err != nil {
		return nil, err
	}
	c := &Controller{client: client, rsLister: rss.Lister(), podLister: pods.Lister(), podIndexer: pods.Informer().GetIndexer(),
		recorder: opts.Recorder, clock: opts.Clock, expectations: NewExpectations(opts.Clock), burst: opts.BurstReplicas,
		inFlight: opts.MaxInFlight}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{rss.Informer().HasSynced, pods.Informer().HasSynced}})
	_, _ = rss.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.Enqueue,
		UpdateFunc: c.updateRS,
		DeleteFunc: c.deleteRS,
	})
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	return c, nil
}

// Expectations returns the controller's expectations (for tests and
// diagnostics).
func (c *Controller) Expectations() *Expectations { return c.expectations }

func (c *Controller) updateRS(oldObj, newObj any) {
	oldRS, ok1 := oldObj.(*appsv1.ReplicaSet)
	newRS, ok2 := newObj.(*appsv1.ReplicaSet)
	if ok1 && ok2 && oldRS.UID != newRS.UID {
		// Deleted and recreated under the same name between two events.
		c.deleteRS(cache.DeletedFinalStateUnknown{Key: oldRS.Namespace + "/" + oldRS.Name, Obj: oldRS})
	}
	c.Enqueue(newObj)
}

func (c *Controller) deleteRS(obj any) {
	key, err := controller.KeyOf(obj)
	if err != nil {
		return
	}
	// A ReplicaSet recreated under the same name starts clean.
	c.expectations.Delete(key)
	c.EnqueueKey(key)
}

// resolve returns the ReplicaSet ref names if it is one this cache has
// with ref's UID.
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	if ref == nil || ref.Kind != Kind.Kind {
		return nil
	}
	rs, err := c.rsLister.ReplicaSets(ns).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// enqueueMatching enqueues every ReplicaSet whose selector matches the
// orphan pod, so that one of them adopts it.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	rss, err := c.rsLister.GetPodReplicaSets(pod)
	if err != nil {
		return
	}
	if len(rss) > 1 {
		c.Logger().Warn("more than one ReplicaSet selects a pod", "pod", pod.Namespace+"/"+pod.Name, "labels", pod.Labels)
	}
	for _, rs := range rss {
		c.Enqueue(rs)
	}
}

func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already being deleted (after a
		// restart): a deletion, never a creation observed.
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if rs := c.resolve(pod.Namespace, ref); rs != nil {
			key := rs.Namespace + "/" + rs.Name
			c.expectations.CreationObserved(key)
			c.EnqueueKey(key)
		}
		return
	}
	c.enqueueMatching(pod)
}

func (c *Controller) updatePod(oldObj, newObj any) {
	oldPod, ok1 := oldObj.(*corev1.Pod)
	pod, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || pod.ResourceVersion == oldPod.ResourceVersion {
		return // a resync
	}
	labelsChanged := !reflect.DeepEqual(pod.Labels, oldPod.Labels)
	if pod.DeletionTimestamp != nil {
		// A graceful deletion started: replace the pod now rather than
		// when the kubelet is done with it.
		c.deletePod(pod)
		if labelsChanged {
			c.deletePod(oldPod)
		}
		return
	}
	ref, oldRef := metav1.GetControllerOfNoCopy(pod), metav1.GetControllerOfNoCopy(oldPod)
	refChanged := !reflect.DeepEqual(ref, oldRef)
	if refChanged && oldRef != nil {
		if rs := c.resolve(oldPod.Namespace, oldRef); rs != nil {
			c.Enqueue(rs)
		}
	}
	if ref != nil {
		rs := c.resolve(pod.Namespace, ref)
		if rs == nil {
			return
		}
		c.Enqueue(rs)
		// Availability comes minReadySeconds after readiness, with no
		// event of its own.
		if !IsPodReady(oldPod) && IsPodReady(pod) && rs.Spec.MinReadySeconds > 0 {
			c.EnqueueAfter(rs, time.Duration(rs.Spec.MinReadySeconds)*time.Second)
		}
		return
	}
	if labelsChanged || refChanged {
		c.enqueueMatching(pod)
	}
}

func (c *Controller) deletePod(obj any) {
	pod, ok := controller.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	rs := c.resolve(pod.Namespace, metav1.GetControllerOfNoCopy(pod))
	if rs == nil {
		return
	}
	key := rs.Namespace + "/" + rs.Name
	c.expectations.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
	c.EnqueueKey(key)
}

// sync brings the ReplicaSet named key to its desired pods and status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key of ours: nothing to retry
	}
	rs, err := c.rsLister.ReplicaSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expectations.Delete(key)
		return nil
	}
	if err != nil {
		return err
	}
	needsSync := c.expectations.Satisfied(key)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// Validation forbids it; nothing to do until the object changes.
		c.Logger().Error("invalid selector", "replicaSet", key, "err", err)
		return nil
	}
	all, err := PodsOwnedOrOrphaned(c.podIndexer, rs.Namespace, rs.UID)
	if err != nil {
		return err
	}
	var active, terminating []*corev1.Pod
	for _, p := range all {
		switch {
		case IsPodActive(p):
			active = append(active, p)
		case IsPodTerminating(p) && metav1.IsControlledBy(p, rs) && selector.Matches(labels.Set(p.Labels)):
			terminating = append(terminating, p)
		}
	}
	active, err = c.claimPods(ctx, rs, selector, active)
	if err != nil {
		return err
	}

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, key, active, rs)
	}
	now := c.clock.Now()
	status := calculateStatus(rs, active, terminating, manageErr, now)
	updated, err := c.updateStatus(ctx, rs, status)
	if err != nil {
		return err
	}
	if manageErr != nil {
		return manageErr
	}
	if updated != nil && updated.Spec.MinReadySeconds > 0 && updated.Status.ReadyReplicas != updated.Status.AvailableReplicas {
		after := time.Duration(updated.Spec.MinReadySeconds) * time.Second
		if d, ok := nextAvailabilityCheck(active, updated.Spec.MinReadySeconds, now); ok {
			after = d
		}
		c.EnqueueKeyAfter(key, after)
	}
	return nil
}
