// Package nodelifecycle is kinc's node-lifecycle-controller (upstream's
// name; "nodelifecycle" for --controllers): it watches every node's
// health signals — its Ready condition's heartbeat and its Lease in
// kube-node-lease — and when a kubelet falls silent for longer than
// --node-monitor-grace-period (--node-startup-grace-period for a node that
// never posted status), sets the node's conditions to Unknown, taints it
// node.kubernetes.io/unreachable (NoSchedule at once, NoExecute at the
// zone's eviction rate; node.kubernetes.io/not-ready when the kubelet
// reports Ready=False), marks its pods not ready and records upstream's
// events (RegisteredNode, RemovingNode, NodeNotReady). A node that comes
// back loses the taints. Evicting the pods is the taint-eviction
// controller's job (package tainteviction), by the NoExecute taints.
//
// The controller also keeps the NoSchedule taints of the other node
// conditions (memory, disk and PID pressure, network unavailable) and
// spec.unschedulable, and the beta os/arch labels equal to the stable
// ones, as upstream's.
package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationinformers "k8s.io/client-go/informers/coordination/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "node-lifecycle-controller").
const Name = "nodelifecycle"

// EventComponent is the source component of the controller's events, as
// upstream's.
const EventComponent = "node-controller"

// Upstream's defaults of the controller's flags.
const (
	DefaultNodeMonitorPeriod         = 5 * time.Second
	DefaultNodeMonitorGracePeriod    = 50 * time.Second
	DefaultNodeStartupGracePeriod    = time.Minute
	DefaultNodeEvictionRate          = 0.1
	DefaultSecondaryNodeEvictionRate = 0.01
	DefaultLargeClusterSizeThreshold = 50
	DefaultUnhealthyZoneThreshold    = 0.55
)

// Options configure a Controller: upstream's flags, and what tests inject.
type Options struct {
	// NodeMonitorPeriod is --node-monitor-period: how often node health
	// is checked.
	NodeMonitorPeriod time.Duration
	// NodeMonitorGracePeriod is --node-monitor-grace-period: how long a
	// node may be silent before it is marked Unknown.
	NodeMonitorGracePeriod time.Duration
	// NodeStartupGracePeriod is --node-startup-grace-period: the same for
	// a node that never posted a Ready condition, from its creation.
	NodeStartupGracePeriod time.Duration
	// NodeEvictionRate is --node-eviction-rate: nodes per second given
	// a NoExecute taint in a healthy zone.
	NodeEvictionRate float32
	// SecondaryNodeEvictionRate is --secondary-node-eviction-rate: the
	// rate in an unhealthy zone larger than LargeClusterSizeThreshold
	// (0 in a smaller one).
	SecondaryNodeEvictionRate float32
	// LargeClusterSizeThreshold is --large-cluster-size-threshold.
	LargeClusterSizeThreshold int32
	// UnhealthyZoneThreshold is --unhealthy-zone-threshold: the fraction
	// of not-Ready nodes (at least 3) that makes a zone unhealthy.
	UnhealthyZoneThreshold float32
	// HealthWorkers is how many nodes' health is updated in parallel; 0
	// means upstream's 8.
	HealthWorkers int
	// Recorder records the controller's events; nil discards them.
	Recorder record.EventRecorder
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock is the controller's time (health timestamps, rates, periods);
	// nil means the real clock.
	Clock clock.WithTicker
}

// DefaultOptions returns upstream's defaults.
func DefaultOptions() Options {
	return Options{
		NodeMonitorPeriod:         DefaultNodeMonitorPeriod,
		NodeMonitorGracePeriod:    DefaultNodeMonitorGracePeriod,
		NodeStartupGracePeriod:    DefaultNodeStartupGracePeriod,
		NodeEvictionRate:          DefaultNodeEvictionRate,
		SecondaryNodeEvictionRate: DefaultSecondaryNodeEvictionRate,
		LargeClusterSizeThreshold: DefaultLargeClusterSizeThreshold,
		UnhealthyZoneThreshold:    DefaultUnhealthyZoneThreshold,
	}
}

// Validate reports the values the controller cannot work with, naming the
// flags: periods must be positive, rates not negative, the threshold a
// fraction, and the monitor period shorter than the grace period.
func (o Options) Validate() error {
	var errs []error
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--node-monitor-period", o.NodeMonitorPeriod}, {"--node-monitor-grace-period", o.NodeMonitorGracePeriod},
		{"--node-startup-grace-period", o.NodeStartupGracePeriod}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s %s must be positive", d.flag, d.v))
		}
	}
	if o.NodeMonitorPeriod > 0 && o.NodeMonitorGracePeriod > 0 && o.NodeMonitorPeriod >= o.NodeMonitorGracePeriod {
		errs = append(errs, fmt.Errorf("--node-monitor-period %s must be shorter than --node-monitor-grace-period %s", o.NodeMonitorPeriod, o.NodeMonitorGracePeriod))
	}
	if o.NodeEvictionRate < 0 {
		errs = append(errs, fmt.Errorf("--node-eviction-rate %g must not be negative", o.NodeEvictionRate))
	}
	if o.SecondaryNodeEvictionRate < 0 {
		errs = append(errs, fmt.Errorf("--secondary-node-eviction-rate %g must not be negative", o.SecondaryNodeEvictionRate))
	}
	if o.LargeClusterSizeThreshold < 0 {
		errs = append(errs, fmt.Errorf("--large-cluster-size-threshold %d must not be negative", o.LargeClusterSizeThreshold))
	}
	if o.UnhealthyZoneThreshold < 0 || o.UnhealthyZoneThreshold > 1 {
		errs = append(errs, fmt.Errorf("--unhealthy-zone-threshold %g must be between 0 and 1", o.UnhealthyZoneThreshold))
	}
	return errors.Join(errs...)
}

// noExecuteTaintingPeriod is how often the zones' tainting queues are
// tried, as upstream's NodeEvictionPeriod.
const noExecuteTaintingPeriod = 100 * time.Millisecond

// Controller is the node lifecycle controller. Its queue keys are node
// names (the NoSchedule taints and labels of one node) and pod keys
// "namespace/name" (a pod bound to a node that is not Ready); health
// monitoring and NoExecute tainting are periodic background loops. Run
// (from the embedded Loop) runs it; its methods are safe for concurrent
// use.
type Controller struct {
	*controller.Loop
	opts     Options
	client   kubernetes.Interface
	recorder record.EventRecorder
	nodes    corelisters.NodeLister
	pods     corelisters.PodLister
	podIndex cache.Indexer
	leases   coordinationlisters.LeaseLister

	health *healthMap
	// retry holds the names of nodes whose pods could not all be marked
	// not ready, to try again next pass.
	retry sync.Map

	// monitorMu serializes health passes and guards known and zoneStates.
	monitorMu  sync.Mutex
	known      map[string]*corev1.Node
	zoneStates map[string]zoneState

	zonesMu sync.Mutex // guards zones
	zones   map[string]*taintQueue
}

// podNodeIndex indexes pods by spec.nodeName.
const podNodeIndex = "spec.nodeName"

// PodNodeIndexers returns the pod informer index the controllers of nodes
// share: pods by spec.nodeName (unbound pods are not indexed).
func PodNodeIndexers() cache.Indexers {
	return cache.Indexers{podNodeIndex: func(obj any) ([]string, error) {
		pod, ok := obj.(*corev1.Pod)
		if !ok || pod.Spec.NodeName == "" {
			return nil, nil
		}
		return []string{pod.Spec.NodeName}, nil
	}}
}

// AddPodNodeIndex adds PodNodeIndexers to a pod informer unless it has the
// index already (another controller added it). The informer must not have
// started.
func AddPodNodeIndex(inf cache.SharedIndexInformer) error {
	if _, ok := inf.GetIndexer().GetIndexers()[podNodeIndex]; ok {
		return nil
	}
	if err := inf.AddIndexers(PodNodeIndexers()); err != nil {
		return fmt.Errorf("adding the pod index by node: %w", err)
	}
	return nil
}

// PodsOnNode returns the pods indexed (AddPodNodeIndex) as bound to node.
func PodsOnNode(index cache.Indexer, node string) ([]*corev1.Pod, error) {
	objs, err := index.ByIndex(podNodeIndex, node)
	if err != nil {
		return nil, err
	}
	pods := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	return pods, nil
}

// New returns a Controller reading leases, nodes and pods through the
// given informers (whose factory the caller starts; a pod index by node is
// added) and writing through client. opts must be valid (Validate).
func New(client kubernetes.Interface, leases coordinationinformers.LeaseInformer, nodes coreinformers.NodeInformer,
	pods coreinformers.PodInformer, opts Options) (*Controller, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.HealthWorkers <= 0 {
		opts.HealthWorkers = 8
	}
	if opts.Recorder == nil {
		opts.Recorder = &record.FakeRecorder{}
	}
	if err := AddPodNodeIndex(pods.Informer()); err != nil {
		return nil, err
	}
	c := &Controller{
		opts: opts, client: client, recorder: opts.Recorder,
		nodes: nodes.Lister(), pods: pods.Lister(), podIndex: pods.Informer().GetIndexer(), leases: leases.Lister(),
		health:     &healthMap{m: map[string]*nodeHealth{}},
		known:      map[string]*corev1.Node{},
		zoneStates: map[string]zoneState{},
		zones:      map[string]*taintQueue{},
	}
	clk := opts.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: clk,
		Synced: []cache.InformerSynced{leases.Informer().HasSynced, nodes.Informer().HasSynced, pods.Informer().HasSynced},
		Background: []func(context.Context){
			controller.Every(clk, opts.NodeMonitorPeriod, func(ctx context.Context) {
				if err := c.monitorNodeHealth(ctx); err != nil {
					c.Logger().Error("monitoring node health", "err", err)
				}
			}),
			controller.Every(clk, noExecuteTaintingPeriod, c.noExecuteTaintingPass),
		}})
	// Every node change may change the NoSchedule taints or labels it
	// needs.
	_, _ = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.Enqueue,
		UpdateFunc: func(_, obj any) { c.Enqueue(obj) },
		DeleteFunc: func(obj any) {
			if n, ok := controller.Object[*corev1.Node](obj); ok {
				c.retry.Delete(n.Name)
			}
		},
	})
	// A pod newly bound to a node may need marking not ready.
	_, _ = pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
				c.Enqueue(p)
			}
		},
		UpdateFunc: func(old, obj any) {
			o, ok1 := old.(*corev1.Pod)
			p, ok2 := obj.(*corev1.Pod)
			if ok1 && ok2 && p.Spec.NodeName != "" && p.Spec.NodeName != o.Spec.NodeName {
				c.Enqueue(p)
			}
		},
	})
	return c, nil
}

// podsOnNode returns the cached pods bound to node.
func (c *Controller) podsOnNode(node string) ([]*corev1.Pod, error) {
	return PodsOnNode(c.podIndex, node)
}

// sync handles a node name (its NoSchedule taints and beta labels) or a
// pod key "namespace/name" (marked not ready when bound to a node whose
// last observed Ready condition is not True).
func (c *Controller) sync(ctx context.Context, key string) error {
	if ns, name, ok := strings.Cut(key, "/"); ok {
		return c.syncPod(ctx, ns, name)
	}
	node, err := c.nodes.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return errors.Join(c.syncNoScheduleTaints(ctx, node), c.reconcileLabels(ctx, node))
}

// syncNoScheduleTaints makes node's NoSchedule taints of conditions (and
// node.kubernetes.io/unschedulable) those its conditions and
// spec.unschedulable call for, as upstream's doNoScheduleTaintingPass.
func (c *Controller) syncNoScheduleTaints(ctx context.Context, node *corev1.Node) error {
	var want []corev1.Taint
	for _, cond := range node.Status.Conditions {
		if key, ok := conditionTaints[cond.Type][cond.Status]; ok {
			want = append(want, corev1.Taint{Key: key, Effect: corev1.TaintEffectNoSchedule})
		}
	}
	if node.Spec.Unschedulable {
		want = append(want, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule})
	}
	var have []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoSchedule && (t.Key == corev1.TaintNodeUnschedulable || slices.Contains(conditionTaintKeys, t.Key)) {
			have = append(have, t)
		}
	}
	var add, remove []corev1.Taint
	for _, t := range want {
		if !hasTaint(have, t) {
			add = append(add, t)
		}
	}
	for _, t := range have {
		if !hasTaint(want, t) {
			remove = append(remove, t)
		}
	}
	if len(add)+len(remove) == 0 {
		return nil
	}
	if err := swapTaints(ctx, c.client, node.Name, add, remove, metav1.NewTime(c.Clock().Now())); err != nil {
		return fmt.Errorf("updating the NoSchedule taints of node %s: %w", node.Name, err)
	}
	return nil
}

// betaLabels are the deprecated labels kept equal to (and added from)
// the stable ones, as upstream's labelReconcileInfo.
var betaLabels = []struct{ stable, beta string }{
	{corev1.LabelOSStable, "beta.kubernetes.io/os"},
	{corev1.LabelArchStable, "beta.kubernetes.io/arch"},
}

// reconcileLabels sets the beta os/arch labels of node to the stable ones'
// values.
func (c *Controller) reconcileLabels(ctx context.Context, node *corev1.Node) error {
	want := map[string]string{}
	for _, l := range betaLabels {
		v, ok := node.Labels[l.stable]
		if ok && node.Labels[l.beta] != v {
			want[l.beta] = v
		}
	}
	if len(want) == 0 {
		return nil
	}
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		n, err := c.client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n = n.DeepCopy()
		for k, v := range want {
			n.Labels[k] = v
		}
		_, err = c.client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating the labels of node %s: %w", node.Name, err)
	}
	return nil
}

// syncPod marks the pod not ready when its node's last observed Ready
// condition is not True, as upstream's processPod.
func (c *Controller) syncPod(ctx context.Context, ns, name string) error {
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	health := c.health.get(pod.Spec.NodeName)
	if health == nil {
		return nil // not observed yet: its next health pass decides
	}
	if _, err := c.nodes.Get(pod.Spec.NodeName); err != nil {
		return err // the cache lags: retry
	}
	ready := readyCondition(health.status)
	if ready == nil || ready.Status == corev1.ConditionTrue {
		return nil
	}
	return c.markPodsNotReady(ctx, []*corev1.Pod{pod}, pod.Spec.NodeName)
}
