// Package daemonset is kinc's "daemonset" controller (upstream's
// daemonset-controller): one pod of each DaemonSet on every node its
// template may run on.
//
// A node is eligible when the template's nodeName (if any), nodeSelector
// and required node affinity match it and every NoSchedule/NoExecute taint
// is tolerated, counting the tolerations the controller adds to every
// daemon pod (not-ready and unreachable NoExecute; disk-, memory-,
// pid-pressure and unschedulable NoSchedule; network-unavailable for
// host-network pods). A node tainted NoSchedule after its pod started keeps
// it; an untolerated NoExecute taint removes it. Pods are created unbound,
// with a required node affinity on metadata.name of their node, and the
// scheduler binds them, as upstream.
//
// Each template is snapshotted in a ControllerRevision "<ds>-<hash>"
// (data: a strategic merge patch replacing spec.template, so that kubectl
// rollout history/undo work), its pods labelled controller-revision-hash
// and pod-template-generation. RollingUpdate replaces out-of-date pods
// within maxUnavailable, or starts new ones next to them within maxSurge;
// OnDelete waits for the user. Failed pods are deleted (FailedDaemonPod)
// and replaced, with a per-node backoff from 1 s to 15 min; succeeded ones
// are deleted too (SucceededDaemonPod). Status counts (desired, current,
// misscheduled, ready, available, updated, unavailable, observedGeneration)
// are written through /status, conflicts retried from a fresh read.
// Events are upstream's: SuccessfulCreate "Created pod: <name>",
// FailedCreate "Error creating: <err>", SuccessfulDelete "Deleted pod:
// <name>", FailedDelete, SelectingAll.
package daemonset

import (
	"context"
	"log/slog"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// Name is the controller's short name, as --controllers spells it.
const Name = "daemonset"

// Component is the event source upstream's controller records events as.
const Component = "daemonset-controller"

// DefaultConcurrentSyncs is upstream's --concurrent-daemonset-syncs.
const DefaultConcurrentSyncs = 2

// BurstReplicas bounds the pods created or deleted by one sync.
const BurstReplicas = 250

// Failed pods are replaced after a per-node backoff of these bounds.
const (
	FailedPodsBackoffBase = time.Second
	FailedPodsBackoffMax  = 15 * time.Minute
	backoffGCInterval     = time.Minute
)

// Event reasons, as upstream's.
const (
	ReasonSelectingAll       = "SelectingAll"
	ReasonFailedPlacement    = "FailedPlacement" // declared by upstream, no longer recorded
	ReasonFailedDaemonPod    = "FailedDaemonPod"
	ReasonSucceededDaemonPod = "SucceededDaemonPod"
	ReasonSuccessfulCreate   = "SuccessfulCreate"
	ReasonFailedCreate       = "FailedCreate"
	ReasonSuccessfulDelete   = "SuccessfulDelete"
	ReasonFailedDelete       = "FailedDelete"
)

// Kind is the GroupVersionKind of the owner of daemon pods.
var Kind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// Options configure a Controller.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries, backoff, expectations and availability; nil
	// means the real clock.
	Clock clock.WithTicker
	// Recorder records the events; nil records none.
	Recorder record.EventRecorder
}

// Controller is the daemonset controller; queue keys are "namespace/name"
// of DaemonSets. Run (from the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client       kubernetes.Interface
	dsLister     appslisters.DaemonSetLister
	revLister    appslisters.ControllerRevisionLister
	podLister    corelisters.PodLister
	podIndexer   cache.Indexer
	nodeLister   corelisters.NodeLister
	recorder     record.EventRecorder
	clock        clock.WithTicker
	expectations *expectations
	backoff      *flowcontrol.Backoff
}

// New returns a Controller reading through the given informers (whose
// factory the caller starts; New adds the pod controller index of package
// replicaset) and writing through client.
func New(client kubernetes.Interface, dss appsinformers.DaemonSetInformer, revs appsinformers.ControllerRevisionInformer,
	pods coreinformers.PodInformer, nodes coreinformers.NodeInformer, opts Options) (*Controller, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	if err := replicaset.AddPodControllerIndex(pods.Informer()); err != nil {
		return nil, err
	}
	backoff := flowcontrol.NewBackOff(FailedPodsBackoffBase, FailedPodsBackoffMax)
	backoff.Clock = opts.Clock
	c := &Controller{client: client, dsLister: dss.Lister(), revLister: revs.Lister(), podLister: pods.Lister(),
		podIndexer: pods.Informer().GetIndexer(), nodeLister: nodes.Lister(), recorder: opts.Recorder, clock: opts.Clock,
		expectations: newExpectations(opts.Clock), backoff: backoff}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced:     []cache.InformerSynced{dss.Informer().HasSynced, revs.Informer().HasSynced, pods.Informer().HasSynced, nodes.Informer().HasSynced},
		Background: []func(ctx context.Context){controller.Every(opts.Clock, backoffGCInterval, func(context.Context) { backoff.GC() })},
	})
	_, _ = dss.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.Enqueue,
		UpdateFunc: func(_, obj any) { c.Enqueue(obj) },
		DeleteFunc: c.deleteDS,
	})
	_, _ = revs.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{Keys: c.ownerKeys, SkipResync: true}))
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	_, _ = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addNode,
		UpdateFunc: c.updateNode,
		DeleteFunc: func(any) { c.enqueueAll() },
	})
	return c, nil
}

func (c *Controller) deleteDS(obj any) {
	key, err := controller.KeyOf(obj)
	if err != nil {
		return
	}
	c.expectations.forget(key)
	c.EnqueueKey(key)
}

// resolve returns the DaemonSet ref names, if the cache has it with ref's
// UID.
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) *appsv1.DaemonSet {
	if ref == nil || ref.Kind != Kind.Kind {
		return nil
	}
	ds, err := c.dsLister.DaemonSets(ns).Get(ref.Name)
	if err != nil || ds.UID != ref.UID {
		return nil
	}
	return ds
}

// ownerKeys maps a pod or ControllerRevision to its DaemonSet, or an
// orphan to every DaemonSet of its namespace whose selector matches it.
func (c *Controller) ownerKeys(obj any) []string {
	m, ok := controller.Object[metav1.Object](obj)
	if !ok {
		return nil
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		if ds := c.resolve(m.GetNamespace(), ref); ds != nil {
			return []string{ds.Namespace + "/" + ds.Name}
		}
		return nil
	}
	var keys []string
	for _, ds := range c.matching(m.GetNamespace(), m.GetLabels()) {
		keys = append(keys, ds.Namespace+"/"+ds.Name)
	}
	return keys
}

// matching returns the DaemonSets of ns whose selector matches lbls.
func (c *Controller) matching(ns string, lbls map[string]string) []*appsv1.DaemonSet {
	all, err := c.dsLister.DaemonSets(ns).List(labels.Everything())
	if err != nil {
		return nil
	}
	var out []*appsv1.DaemonSet
	for _, ds := range all {
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(lbls)) {
			continue
		}
		out = append(out, ds)
	}
	return out
}

func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if ds := c.resolve(pod.Namespace, ref); ds != nil {
			key := ds.Namespace + "/" + ds.Name
			c.expectations.creationObserved(key)
			c.EnqueueKey(key)
		}
		return
	}
	for _, k := range c.ownerKeys(pod) {
		c.EnqueueKey(k)
	}
}

func (c *Controller) updatePod(oldObj, newObj any) {
	oldPod, ok1 := oldObj.(*corev1.Pod)
	pod, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || pod.ResourceVersion == oldPod.ResourceVersion {
		return
	}
	if pod.DeletionTimestamp != nil && oldPod.DeletionTimestamp == nil {
		c.deletePod(pod)
		return
	}
	keys := map[string]bool{}
	for _, k := range c.ownerKeys(oldPod) {
		keys[k] = true
	}
	for _, k := range c.ownerKeys(pod) {
		keys[k] = true
	}
	for k := range keys {
		c.EnqueueKey(k)
	}
	// Availability comes minReadySeconds after readiness, without an event.
	if ds := c.resolve(pod.Namespace, metav1.GetControllerOfNoCopy(pod)); ds != nil && ds.Spec.MinReadySeconds > 0 &&
		!replicaset.IsPodReady(oldPod) && replicaset.IsPodReady(pod) {
		c.EnqueueAfter(ds, time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second/10)
	}
}

func (c *Controller) deletePod(obj any) {
	pod, ok := controller.Object[*corev1.Pod](obj)
	if !ok {
		return
	}
	ds := c.resolve(pod.Namespace, metav1.GetControllerOfNoCopy(pod))
	if ds == nil {
		return
	}
	key := ds.Namespace + "/" + ds.Name
	c.expectations.deletionObserved(key)
	c.EnqueueKey(key)
}

func (c *Controller) enqueueAll() {
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		c.Enqueue(ds)
	}
}

func (c *Controller) addNode(obj any) {
	node, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		if run, _ := shouldRun(node, ds); run {
			c.Enqueue(ds)
		}
	}
}

func (c *Controller) updateNode(oldObj, newObj any) {
	oldNode, ok1 := oldObj.(*corev1.Node)
	node, ok2 := newObj.(*corev1.Node)
	if !ok1 || !ok2 {
		return
	}
	if reflect.DeepEqual(oldNode.Labels, node.Labels) && reflect.DeepEqual(oldNode.Spec.Taints, node.Spec.Taints) &&
		oldNode.Name == node.Name {
		return // only what the predicates read matters (heartbeats do not)
	}
	all, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range all {
		r1, c1 := shouldRun(oldNode, ds)
		r2, c2 := shouldRun(node, ds)
		if r1 != r2 || c1 != c2 {
			c.Enqueue(ds)
		}
	}
}
