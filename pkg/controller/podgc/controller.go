// Package podgc is kinc's pod-garbage-collector-controller (upstream's
// name; "podgc" for --controllers). Every --pod-gc period it force-deletes
// (grace period 0), as upstream's PodGCController:
//   - terminated pods (Succeeded or Failed) over
//     --terminated-pod-gc-threshold, evicted ones first, then oldest first;
//   - terminating pods on not-Ready nodes tainted
//     node.kubernetes.io/out-of-service;
//   - pods bound to nodes that no longer exist, once the node has been
//     missing for the quarantine time (40 s) and the apiserver confirms it
//     is gone; they get DisruptionTarget (DeletionByPodGC);
//   - terminating pods never scheduled to a node.
//
// A pod not yet terminal is first marked Failed through pods/status, since
// no kubelet will ever do it.
package podgc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/internal/podstatus"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "pod-garbage-collector-controller").
const Name = "podgc"

// Upstream's defaults.
const (
	// DefaultTerminatedPodGCThreshold is --terminated-pod-gc-threshold's.
	DefaultTerminatedPodGCThreshold = 12500
	// DefaultGCCheckPeriod is how often upstream collects (not a flag).
	DefaultGCCheckPeriod = 20 * time.Second
	// DefaultQuarantineTime is how long a node must be missing before its
	// pods are collected (not a flag).
	DefaultQuarantineTime = 40 * time.Second
)

// gcKey is the one key of the controller's queue: a collection pass.
const gcKey = "gc"

// Options configure a Controller.
type Options struct {
	// TerminatedPodGCThreshold is --terminated-pod-gc-threshold: how many
	// terminated pods may exist; <= 0 disables their collection.
	TerminatedPodGCThreshold int
	// GCCheckPeriod and QuarantineTime default to upstream's 20 s and 40 s
	// when 0 (tests shorten them).
	GCCheckPeriod, QuarantineTime time.Duration
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives the period and the quarantine; nil means the real clock.
	Clock clock.WithTicker
}

// Controller collects pods. Its queue has one key, "gc", enqueued every
// GCCheckPeriod: a pass that failed is retried with backoff. Run (from the
// embedded Loop) runs it with one worker.
type Controller struct {
	*controller.Loop
	opts   Options
	client kubernetes.Interface
	pods   corelisters.PodLister
	nodes  corelisters.NodeLister

	// missing holds when each node that pods are bound to was first seen
	// missing from the cache; only the single worker touches it.
	missing map[string]time.Time
}

// New returns a Controller reading pods and nodes through the given
// informers (whose factory the caller starts) and deleting through client.
func New(client kubernetes.Interface, pods coreinformers.PodInformer, nodes coreinformers.NodeInformer, opts Options) *Controller {
	if opts.GCCheckPeriod <= 0 {
		opts.GCCheckPeriod = DefaultGCCheckPeriod
	}
	if opts.QuarantineTime <= 0 {
		opts.QuarantineTime = DefaultQuarantineTime
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	c := &Controller{opts: opts, client: client, pods: pods.Lister(), nodes: nodes.Lister(), missing: map[string]time.Time{}}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{pods.Informer().HasSynced, nodes.Informer().HasSynced},
		Background: []func(context.Context){
			controller.Every(opts.Clock, opts.GCCheckPeriod, func(context.Context) { c.EnqueueKey(gcKey) }),
		}})
	return c
}

// sync runs one collection pass; its error joins every failure (the pass
// is retried).
func (c *Controller) sync(ctx context.Context, key string) error {
	if key != gcKey {
		return nil
	}
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return err
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	var errs []error
	if c.opts.TerminatedPodGCThreshold > 0 {
		errs = append(errs, c.gcTerminated(ctx, pods))
	}
	errs = append(errs, c.gcTerminatingOutOfService(ctx, pods),
		c.gcOrphaned(ctx, pods, nodes), c.gcUnscheduledTerminating(ctx, pods))
	return errors.Join(errs...)
}

func terminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// evicted is the kubelet's eviction mark.
func evicted(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
}

// byEvictionAndAge orders evicted pods first, then by creation, then name.
func byEvictionAndAge(a, b *corev1.Pod) int {
	if ea, eb := evicted(a), evicted(b); ea != eb {
		if ea {
			return -1
		}
		return 1
	}
	if r := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); r != 0 {
		return r
	}
	return cmp.Compare(a.Name, b.Name)
}

// gcTerminated deletes the terminated pods over the threshold.
func (c *Controller) gcTerminated(ctx context.Context, pods []*corev1.Pod) error {
	var done []*corev1.Pod
	for _, p := range pods {
		if terminated(p) {
			done = append(done, p)
		}
	}
	n := len(done) - c.opts.TerminatedPodGCThreshold
	if n <= 0 {
		return nil
	}
	c.Logger().Info("garbage collecting terminated pods", "count", n)
	slices.SortFunc(done, byEvictionAndAge)
	return c.deleteAll(ctx, done[:n], nil)
}

// gcTerminatingOutOfService deletes terminating pods on not-Ready nodes
// with the out-of-service taint.
func (c *Controller) gcTerminatingOutOfService(ctx context.Context, pods []*corev1.Pod) error {
	var doomed []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil || p.Spec.NodeName == "" {
			continue
		}
		node, err := c.nodes.Get(p.Spec.NodeName)
		if err != nil {
			continue
		}
		if !nodeReady(node) && slices.ContainsFunc(node.Spec.Taints, func(t corev1.Taint) bool { return t.Key == corev1.TaintNodeOutOfService }) {
			doomed = append(doomed, p)
		}
	}
	if len(doomed) == 0 {
		return nil
	}
	c.Logger().Info("garbage collecting terminating pods on out-of-service nodes", "count", len(doomed))
	slices.SortFunc(doomed, byEvictionAndAge)
	return c.deleteAll(ctx, doomed, nil)
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// gcOrphaned deletes the pods bound to nodes missing from the cache for
// the quarantine time that the apiserver confirms are gone.
func (c *Controller) gcOrphaned(ctx context.Context, pods []*corev1.Pod, nodes []*corev1.Node) error {
	exists := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		exists[n.Name] = true
	}
	now := c.Clock().Now()
	for _, p := range pods {
		if n := p.Spec.NodeName; n != "" && !exists[n] {
			if _, ok := c.missing[n]; !ok {
				c.missing[n] = now
			}
		}
	}
	deleted := map[string]bool{}
	var errs []error
	for name, since := range c.missing {
		if exists[name] {
			delete(c.missing, name)
			continue
		}
		if now.Sub(since) < c.opts.QuarantineTime {
			continue
		}
		delete(c.missing, name) // seen again next pass if still needed
		_, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			deleted[name] = true
		case err != nil:
			errs = append(errs, fmt.Errorf("checking whether node %s exists: %w", name, err))
		}
	}
	var orphans []*corev1.Pod
	for _, p := range pods {
		if deleted[p.Spec.NodeName] {
			orphans = append(orphans, p)
		}
	}
	if len(orphans) > 0 {
		c.Logger().Info("garbage collecting pods of deleted nodes", "count", len(orphans))
		errs = append(errs, c.deleteAll(ctx, orphans, &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists"}))
	}
	return errors.Join(errs...)
}

// gcUnscheduledTerminating deletes terminating pods bound to no node.
func (c *Controller) gcUnscheduledTerminating(ctx context.Context, pods []*corev1.Pod) error {
	var doomed []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			doomed = append(doomed, p)
		}
	}
	if len(doomed) == 0 {
		return nil
	}
	c.Logger().Info("garbage collecting unscheduled terminating pods", "count", len(doomed))
	return c.deleteAll(ctx, doomed, nil)
}

// deleteAll force-deletes pods in order; see markFailedAndDelete.
func (c *Controller) deleteAll(ctx context.Context, pods []*corev1.Pod, cond *corev1.PodCondition) error {
	var errs []error
	for _, p := range pods {
		if err := c.markFailedAndDelete(ctx, p, cond); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// markFailedAndDelete marks a pod that is not terminal Failed (with cond,
// when given) through pods/status, then deletes it with grace period 0. A
// pod gone meanwhile is not an error.
func (c *Controller) markFailedAndDelete(ctx context.Context, pod *corev1.Pod, cond *corev1.PodCondition) error {
	key := pod.Namespace + "/" + pod.Name
	c.Logger().Info("force deleting pod", "pod", key)
	pods := c.client.CoreV1().Pods(pod.Namespace)
	if !terminated(pod) {
		status := pod.Status.DeepCopy()
		status.Phase = corev1.PodFailed
		status.ObservedGeneration = pod.Generation
		if cond != nil {
			cc := *cond
			cc.ObservedGeneration = pod.Generation
			podstatus.SetCondition(status, cc, metav1.NewTime(c.Clock().Now()))
		}
		if err := podstatus.Patch(ctx, pods, pod, *status); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		}
	}
	err := pods.Delete(ctx, pod.Name, *metav1.NewDeleteOptions(0))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting pod %s: %w", key, err)
	}
	return nil
}
