// Package nodeipam is kinc's "nodeipam" controller (upstream's
// node-ipam-controller with its RangeAllocator, the allocator kubeadm
// clusters run with --allocate-node-cidrs=true): it gives every Node
// without one a pod range, spec.podCIDR and spec.podCIDRs, one node CIDR
// (a /24 of --cluster-cidr by default, a /64 for IPv6) per cluster CIDR.
//
// Every node CIDR a Node holds is in use and never given to another: at
// its first sync the controller marks the ranges of every Node in the
// cache used, so a restart of the controller, or of the whole cluster
// (the ranges are in the Nodes, in etcd), never reassigns one. A Node
// without a range gets the first free node CIDR (the lowest address); a
// deleted Node's range is free again for the next Node. Node CIDRs that
// overlap --service-cluster-ip-range are never given.
//
// Events, on the Node, from component "cidrAllocator" as upstream:
// CIDRNotAvailable (Normal, "Node <name> status is now: CIDRNotAvailable")
// when the cluster CIDR is full, the Node then waiting (with backoff) for
// a range to be freed; CIDRAssignmentFailed when the range could not be
// written to the Node. Nodes found without a range when the controller
// starts get theirs in the order they were created. As upstream's RangeAllocator, the controller sets
// no NetworkUnavailable condition (upstream's cloud allocators and route
// controller do). Unlike upstream, which refuses to start (and then
// crash-loops) when a Node holds a range outside --cluster-cidr, such a
// Node gets a Warning event PodCIDROutOfRange and is otherwise left alone.
package nodeipam

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is "node-ipam-controller").
const Name = "nodeipam"

// EventComponent is the source component of the controller's events, as
// upstream's range allocator records them.
const EventComponent = "cidrAllocator"

// Workers is the number of workers upstream's range allocator runs
// (cidrUpdateWorkers); it has no flag.
const Workers = 30

// Event reasons.
const (
	// ReasonCIDRNotAvailable: the cluster CIDR has no free node CIDR.
	ReasonCIDRNotAvailable = "CIDRNotAvailable"
	// ReasonCIDRAssignmentFailed: writing the range to the Node failed.
	ReasonCIDRAssignmentFailed = "CIDRAssignmentFailed"
	// ReasonPodCIDROutOfRange: the Node holds a range that is not a CIDR
	// of --cluster-cidr (kinc's; upstream fails to start instead).
	ReasonPodCIDROutOfRange = "PodCIDROutOfRange"
)

// Options configure a Controller.
type Options struct {
	// ClusterCIDRs are the pod networks node CIDRs are taken from: one, or
	// one per IP family (dual-stack). Required.
	ClusterCIDRs []netip.Prefix
	// ServiceCIDRs are the service ranges; node CIDRs overlapping them are
	// never given.
	ServiceCIDRs []netip.Prefix
	// NodeCIDRMaskSize is the prefix length of a node CIDR; zero means 24
	// for an IPv4 and 64 for an IPv6 cluster CIDR (upstream's defaults).
	NodeCIDRMaskSize int
	// Recorder records the events; nil records none.
	Recorder record.EventRecorder
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries; nil means the real clock.
	Clock clock.WithTicker
}

// Controller allocates the Nodes' pod ranges. Its queue keys are Node
// names. It is safe for concurrent use (any number of workers); Run (from
// the embedded Loop) runs it.
type Controller struct {
	*controller.Loop
	client   kubernetes.Interface
	nodes    corelisters.NodeLister
	recorder record.EventRecorder

	mu sync.Mutex
	// sets are the cluster CIDRs' node CIDRs, in Options.ClusterCIDRs order.
	sets []*cidrSet
	// owned are the node CIDRs marked used for each Node, by name: the
	// ranges it holds, or those reserved for it and being written.
	owned map[string][]netip.Prefix
	// reported are the ranges outside the cluster CIDRs already reported
	// for each Node, so that its status heartbeats do not repeat the event.
	reported map[string]string
	// initOnce marks the ranges of the Nodes in the cache used, at the
	// first sync (once the cache has synced); other syncs wait for it.
	initOnce sync.Once
}

// New returns a Controller reading Nodes through nodes (whose factory the
// caller starts) and writing their ranges through client. It fails when
// the CIDRs of opts do not make node CIDRs.
func New(client kubernetes.Interface, nodes coreinformers.NodeInformer, opts Options) (*Controller, error) {
	if len(opts.ClusterCIDRs) == 0 {
		return nil, fmt.Errorf("%s: no cluster CIDR", Name)
	}
	c := &Controller{client: client, nodes: nodes.Lister(), recorder: opts.Recorder, owned: map[string][]netip.Prefix{},
		reported: map[string]string{}}
	if c.recorder == nil {
		c.recorder = &record.FakeRecorder{}
	}
	for _, cluster := range opts.ClusterCIDRs {
		for _, s := range c.sets {
			if s.family(cluster) {
				return nil, fmt.Errorf("%s: cluster CIDRs %s and %s are of one IP family", Name, s.cluster, cluster)
			}
		}
		size := opts.NodeCIDRMaskSize
		if size == 0 {
			size = map[bool]int{true: 24, false: 64}[cluster.Addr().Is4()]
		}
		set, err := newCIDRSet(cluster, size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", Name, err)
		}
		c.sets = append(c.sets, set)
	}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{nodes.Informer().HasSynced}})
	for _, svc := range opts.ServiceCIDRs {
		for _, s := range c.sets {
			if s.family(svc) && svc.Overlaps(s.cluster) {
				_ = s.occupy(svc) // overlapping and of the family: cannot fail
				c.Logger().Info("service range excluded from node CIDRs", "serviceCIDR", svc, "clusterCIDR", s.cluster)
			}
		}
	}
	_, _ = nodes.Informer().AddEventHandler(c.Handler(controller.HandlerOptions{}))
	return c, nil
}

// sync gives the Node named key a range when it has none, or marks its
// range used; a Node gone frees the range it had.
func (c *Controller) sync(ctx context.Context, key string) error {
	c.initOnce.Do(c.initialize)
	node, err := c.nodes.Get(key)
	if apierrors.IsNotFound(err) {
		c.release(key)
		return nil
	}
	if err != nil {
		return err
	}
	if node.DeletionTimestamp != nil {
		return nil // as upstream: its range is freed once it is gone
	}
	if cidrs := podCIDRs(node); len(cidrs) > 0 {
		if err := c.occupyNode(node.Name, cidrs); err != nil && c.firstReport(node.Name, cidrs) {
			c.Logger().Error("node holds a pod range outside the cluster CIDR", "node", node.Name, "podCIDRs", cidrs, "err", err)
			c.recorder.Eventf(node, corev1.EventTypeWarning, ReasonPodCIDROutOfRange,
				"Node %s has pod CIDRs %s, which the node IPAM controller does not allocate: %v", node.Name, strings.Join(cidrs, ","), err)
		}
		return nil // retrying would not change the Node
	}
	allocated, err := c.reserve(node.Name)
	if err != nil {
		c.recordStatusChange(node, ReasonCIDRNotAvailable)
		return fmt.Errorf("allocating a pod range for node %s: %w", node.Name, err)
	}
	return c.assign(ctx, node, allocated)
}

// assign writes allocated to the Node's spec.podCIDR and spec.podCIDRs
// with a strategic merge patch, as upstream.
func (c *Controller) assign(ctx context.Context, node *corev1.Node, allocated []netip.Prefix) error {
	cidrs := make([]string, len(allocated))
	for i, p := range allocated {
		cidrs[i] = p.String()
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"podCIDR": cidrs[0], "podCIDRs": cidrs}})
	if err != nil {
		return err
	}
	_, err = c.client.CoreV1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	switch {
	case err == nil:
		c.Logger().Info("Set node PodCIDR", "node", node.Name, "podCIDRs", cidrs)
		return nil
	case apierrors.IsNotFound(err):
		c.release(node.Name) // deleted meanwhile; its delete event is queued too
		return nil
	}
	// The reservation stays: the retry writes the same range, and the
	// Node's next state (a range of its own, or gone) frees it.
	c.recordStatusChange(node, ReasonCIDRAssignmentFailed)
	return fmt.Errorf("setting pod CIDRs %s of node %s: %w", strings.Join(cidrs, ","), node.Name, err)
}

// recordStatusChange records upstream's node status change event.
func (c *Controller) recordStatusChange(node *corev1.Node, status string) {
	ref := &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}
	c.recorder.Eventf(ref, corev1.EventTypeNormal, status, "Node %s status is now: %s", node.Name, status)
}

// firstReport reports whether the Node's bad ranges cidrs are news, and
// remembers them.
func (c *Controller) firstReport(name string, cidrs []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	joined := strings.Join(cidrs, ",")
	if c.reported[name] == joined {
		return false
	}
	c.reported[name] = joined
	return true
}

// initialize marks the ranges of every Node in the cache used, then
// reserves ranges for the Nodes without one in the order they were created
// (then by name), so that the workers, syncing them in any order, give the
// first Node registered (a cluster's first control plane) the first range.
func (c *Controller) initialize() {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return // a lister does not fail; each Node's sync marks its own anyway
	}
	var without []*corev1.Node
	for _, n := range nodes {
		if cidrs := podCIDRs(n); len(cidrs) > 0 {
			_ = c.occupyNode(n.Name, cidrs) // a bad range is reported by the Node's own sync
		} else if n.DeletionTimestamp == nil {
			without = append(without, n)
		}
	}
	slices.SortFunc(without, func(a, b *corev1.Node) int {
		if d := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); d != 0 {
			return d
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, n := range without {
		if _, err := c.reserve(n.Name); err != nil {
			return // full: each Node's sync reports it
		}
	}
}

// occupyNode marks the Node's ranges used, as its own, and frees the node
// CIDRs marked for it before that it no longer holds (a reservation the
// Node did not take). An unparsable range, or one outside every cluster
// CIDR, is an error and changes nothing.
func (c *Controller) occupyNode(name string, cidrs []string) error {
	prefixes := make([]netip.Prefix, 0, len(cidrs))
	sets := make([]*cidrSet, 0, len(cidrs))
	for _, s := range cidrs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return fmt.Errorf("pod CIDR %q: %w", s, err)
		}
		set := c.setFor(p)
		if set == nil {
			return fmt.Errorf("no cluster CIDR of the family of %s", p)
		}
		if _, _, err := set.indices(p); err != nil {
			return err
		}
		prefixes, sets = append(prefixes, p.Masked()), append(sets, set)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, old := range c.owned[name] {
		if !slices.Contains(prefixes, old) {
			_ = c.setFor(old).release(old)
		}
	}
	for i, p := range prefixes {
		_ = sets[i].occupy(p) // checked above
	}
	c.owned[name] = prefixes
	return nil
}

// reserve returns the node CIDRs reserved for the Node, reserving the first
// free one of every cluster CIDR when it has none. It reserves nothing
// when one cluster CIDR is full.
func (c *Controller) reserve(name string) ([]netip.Prefix, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if owned := c.owned[name]; len(owned) > 0 {
		return owned, nil // reserved by an earlier sync whose write the cache has not shown yet
	}
	out := make([]netip.Prefix, 0, len(c.sets))
	for _, s := range c.sets {
		p, err := s.allocateNext()
		if err != nil {
			for i, q := range out {
				_ = c.sets[i].release(q)
			}
			return nil, fmt.Errorf("cluster CIDR %s: %w", s.cluster, err)
		}
		out = append(out, p)
	}
	c.owned[name] = out
	return out, nil
}

// release frees the node CIDRs marked for the Node.
func (c *Controller) release(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.owned[name] {
		_ = c.setFor(p).release(p)
		c.Logger().Info("released pod range of deleted node", "node", name, "podCIDR", p)
	}
	delete(c.owned, name)
	delete(c.reported, name)
}

// setFor returns the cluster CIDR set of p's family, nil when none.
func (c *Controller) setFor(p netip.Prefix) *cidrSet {
	for _, s := range c.sets {
		if s.family(p) {
			return s
		}
	}
	return nil
}

// podCIDRs returns the Node's ranges: spec.podCIDRs, or spec.podCIDR.
func podCIDRs(n *corev1.Node) []string {
	if len(n.Spec.PodCIDRs) > 0 {
		return n.Spec.PodCIDRs
	}
	if n.Spec.PodCIDR != "" {
		return []string{n.Spec.PodCIDR}
	}
	return nil
}
