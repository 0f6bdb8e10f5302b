// Package tainteviction is kinc's taint-eviction-controller (upstream's
// name; it has no alias): it deletes the pods bound to nodes with NoExecute
// taints they do not tolerate. A pod that tolerates every such taint of
// its node, some for a limited tolerationSeconds, is deleted once the
// shortest of those has passed since the taints were seen (at once for
// tolerationSeconds <= 0), unless the taints go first; one tolerating them
// all forever stays. Each deletion is announced by the Normal event
// TaintManagerEviction "Marking for deletion Pod <ns>/<name>" and a
// cancelled one by "Cancelling deletion of Pod <ns>/<name>", and the pod
// gets the DisruptionTarget condition (DeletionByTaintManager) before it
// is deleted, as upstream's.
package tainteviction

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/nodelifecycle"
)

// Name is the controller's name, for --controllers, its logs and the
// source component of its events, as upstream's.
const Name = "taint-eviction-controller"

// Options configure a Controller.
type Options struct {
	// Recorder records the controller's events; nil discards them.
	Recorder record.EventRecorder
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock runs the tolerationSeconds timers; nil means the real clock.
	Clock Clock
}

// Clock is what the controller's loop and timers need; clock.RealClock
// and the fake clock of k8s.io/utils/clock/testing have it.
type Clock interface {
	clock.WithTicker
	AfterFunc(d time.Duration, f func()) clock.Timer
}

// Controller evicts pods from nodes by their NoExecute taints. Its queue
// keys are node names (every pod of the node is reconsidered) and pod
// keys "namespace/name". Run (from the embedded Loop) runs it; its
// methods are safe for concurrent use.
type Controller struct {
	*controller.Loop
	client   kubernetes.Interface
	recorder record.EventRecorder
	nodes    corelisters.NodeLister
	pods     corelisters.PodLister
	podIndex cache.Indexer

	clock Clock

	mu        sync.Mutex // guards evictions
	evictions map[string]*eviction
}

// eviction is a pod's scheduled deletion.
type eviction struct {
	// createdAt is when the pod was first found on a node with taints it
	// tolerates only for a while; fireAt when it is due.
	createdAt, fireAt time.Time
	timer             clock.Timer
	// announced is set once the TaintManagerEviction event was recorded.
	announced bool
}

// New returns a Controller reading nodes and pods through the given
// informers (whose factory the caller starts; a pod index by node is
// added) and deleting pods through client.
func New(client kubernetes.Interface, nodes coreinformers.NodeInformer, pods coreinformers.PodInformer, opts Options) (*Controller, error) {
	if err := nodelifecycle.AddPodNodeIndex(pods.Informer()); err != nil {
		return nil, err
	}
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	c := &Controller{client: client, recorder: opts.Recorder, nodes: nodes.Lister(), pods: pods.Lister(),
		podIndex: pods.Informer().GetIndexer(), evictions: map[string]*eviction{}}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	c.clock = opts.Clock
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{nodes.Informer().HasSynced, pods.Informer().HasSynced},
		// Timers pending at shutdown are stopped.
		Background: []func(context.Context){func(ctx context.Context) { <-ctx.Done(); c.stopAll() }}})
	// A node matters when it appears, goes, or its NoExecute taints change.
	_, _ = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.Enqueue,
		UpdateFunc: func(old, obj any) {
			o, ok1 := old.(*corev1.Node)
			n, ok2 := obj.(*corev1.Node)
			if !ok1 || !ok2 || !equality.Semantic.DeepEqual(noExecuteTaints(o.Spec.Taints), noExecuteTaints(n.Spec.Taints)) {
				c.Enqueue(obj)
			}
		},
		DeleteFunc: c.Enqueue,
	})
	// A pod matters when it appears, goes, or its node or tolerations
	// change.
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.Enqueue,
		UpdateFunc: func(old, obj any) {
			o, ok1 := old.(*corev1.Pod)
			p, ok2 := obj.(*corev1.Pod)
			if !ok1 || !ok2 || o.Spec.NodeName != p.Spec.NodeName || !equality.Semantic.DeepEqual(o.Spec.Tolerations, p.Spec.Tolerations) {
				c.Enqueue(obj)
			}
		},
		DeleteFunc: c.Enqueue,
	})
	return c, nil
}

// noExecuteTaints returns taints' NoExecute ones.
func noExecuteTaints(taints []corev1.Taint) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

// sync reconsiders every pod of the node named key, or the pod of key
// "namespace/name".
func (c *Controller) sync(ctx context.Context, key string) error {
	if strings.Contains(key, "/") {
		return c.syncPod(ctx, key)
	}
	node, err := c.nodes.Get(key)
	if apierrors.IsNotFound(err) {
		return nil // its pods go with it (pod GC); their timers run out or are cancelled with them
	}
	if err != nil {
		return err
	}
	pods, err := nodelifecycle.PodsOnNode(c.podIndex, node.Name)
	if err != nil {
		return err
	}
	taints := noExecuteTaints(node.Spec.Taints)
	now := c.Clock().Now()
	var errs []error
	for _, pod := range pods {
		if err := c.reconcile(ctx, pod, taints, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// syncPod reconsiders one pod: a pod gone has its eviction cancelled.
func (c *Controller) syncPod(ctx context.Context, key string) error {
	ns, name, _ := strings.Cut(key, "/")
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.cancel(key)
		return nil
	}
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		return nil
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.reconcile(ctx, pod, noExecuteTaints(node.Spec.Taints), c.Clock().Now())
}
