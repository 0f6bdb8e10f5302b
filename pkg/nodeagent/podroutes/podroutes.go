// Package podroutes routes the other nodes' pod ranges through them, so
// pods on different nodes reach each other over the kinc network: what
// kindnetd does in kind. It watches Node objects and, for every other node
// with a pod CIDR and an InternalIP of the same family, keeps a route
// "<podCIDR> via <InternalIP>" on this node. Routes of deleted nodes are
// removed; a node that comes back from a restart with a new address gets
// its routes moved as soon as its kubelet reports the address. With the
// cluster's pod subnet it also masquerades pod traffic leaving that subnet
// (kindnetd's ip-masq part), so traffic between pods keeps pod addresses.
package podroutes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	kexec "github.com/kinc-dev/kinc/pkg/exec"
)

// Router changes this node's routing table.
type Router interface {
	// Replace adds or replaces the route to dst through via.
	Replace(ctx context.Context, dst *net.IPNet, via net.IP) error
	// Delete removes the route to dst; a missing route is not an error.
	Delete(ctx context.Context, dst *net.IPNet) error
}

// IPRouter is a Router running iproute2's ip.
type IPRouter struct{ Cmder kexec.Cmder }

// Replace implements Router.
func (r IPRouter) Replace(ctx context.Context, dst *net.IPNet, via net.IP) error {
	return r.Cmder.CommandContext(ctx, "ip", "route", "replace", dst.String(), "via", via.String()).Run()
}

// Delete implements Router.
func (r IPRouter) Delete(ctx context.Context, dst *net.IPNet) error {
	err := r.Cmder.CommandContext(ctx, "ip", "route", "del", dst.String()).Run()
	var re *kexec.RunError
	if errors.As(err, &re) && bytes.Contains(re.Output, []byte("No such process")) {
		return nil // RTNETLINK answers: No such process: the route is gone
	}
	return err
}

// NAT keeps the masquerading of pod traffic that leaves the pod network.
type NAT interface {
	// EnsureMasquerade makes traffic from podSubnet to anywhere outside it
	// leave with the node's address; traffic between pods keeps theirs.
	EnsureMasquerade(ctx context.Context, podSubnet *net.IPNet) error
}

// IPTables is a NAT running iptables (the backend kinc-node-setup chose).
type IPTables struct{ Cmder kexec.Cmder }

// MasqueradeComment marks the rule IPTables keeps.
const MasqueradeComment = "kinc-routes: masquerade pod traffic leaving the pod network"

// EnsureMasquerade implements NAT: it appends the rule to nat POSTROUTING
// unless iptables -C finds it there.
func (t IPTables) EnsureMasquerade(ctx context.Context, podSubnet *net.IPNet) error {
	rule := []string{"POSTROUTING", "-s", podSubnet.String(), "!", "-d", podSubnet.String(),
		"-m", "comment", "--comment", MasqueradeComment, "-j", "MASQUERADE"}
	if t.Cmder.CommandContext(ctx, "iptables", append([]string{"-t", "nat", "-C"}, rule...)...).Run() == nil {
		return nil
	}
	return t.Cmder.CommandContext(ctx, "iptables", append([]string{"-t", "nat", "-A"}, rule...)...).Run()
}

// Options configure a Controller.
type Options struct {
	// NodeName is this node; its own pod range is local (the CNI bridge).
	NodeName string
	Client   kubernetes.Interface
	Router   Router
	// PodSubnet is the cluster's pod network; when set, NAT masquerades
	// what leaves it (the CNI bridge does not: pods must see each other's
	// addresses across nodes).
	PodSubnet *net.IPNet
	NAT       NAT
	// Resync is how often every route is written again, repairing one
	// removed behind the controller's back. Zero means a minute.
	Resync time.Duration
	// RetryAfter is the wait before a failed reconcile is retried. Zero
	// means two seconds.
	RetryAfter time.Duration
	Logger     *slog.Logger
}

// The keys of the controller's queue: routes are reconciled as a whole.
const (
	// nodesKey is what every Node event enqueues.
	nodesKey = "nodes"
	// resyncKey is enqueued at the start and every Resync: it rewrites
	// every route and the masquerade rule even when they look in place.
	resyncKey = "resync"
)

// Controller keeps the routes to the other nodes' pod ranges. It runs on
// pkg/controller's loop with one worker, so sync is never concurrent.
type Controller struct {
	opts  Options
	nodes corelisters.NodeLister
	// routes are the routes installed, by destination.
	routes map[string]route
	// force makes the next sync rewrite everything: set after a failure.
	force bool
}

type route struct {
	dst *net.IPNet
	via net.IP
}

// New returns a controller; Run starts it.
func New(opts Options) *Controller {
	if opts.Resync <= 0 {
		opts.Resync = time.Minute
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Controller{opts: opts, routes: map[string]route{}}
}

// Run watches the nodes and keeps the routes until ctx ends. It returns
// ctx's error when ctx ends before the nodes were listed, nil after.
func (c *Controller) Run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(c.opts.Client, 0)
	loop, err := c.newLoop(factory)
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	c.opts.Logger.Info("watching nodes for pod routes", "node", c.opts.NodeName)
	if err := loop.Run(ctx, 1); errors.Is(err, controller.ErrNotSynced) {
		return ctx.Err()
	} else if err != nil {
		return err
	}
	return nil
}

// newLoop sets the node lister from factory and returns the loop that
// calls sync: on every Node event, every Resync, and RetryAfter after a
// failure, until it succeeds.
func (c *Controller) newLoop(factory informers.SharedInformerFactory) (*controller.Loop, error) {
	inf := factory.Core().V1().Nodes()
	c.nodes = inf.Lister()
	var loop *controller.Loop
	resync := controller.Every(clock.RealClock{}, c.opts.Resync, func(context.Context) { loop.EnqueueKey(resyncKey) })
	loop = controller.New(controller.Config{Name: "pod-routes", Sync: c.sync, Logger: c.opts.Logger,
		Synced:      []cache.InformerSynced{inf.Informer().HasSynced},
		RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[string](c.opts.RetryAfter, c.opts.RetryAfter),
		Background:  []func(context.Context){resync}})
	if _, err := inf.Informer().AddEventHandler(loop.Handler(controller.HandlerOptions{
		Keys: func(any) []string { return []string{nodesKey} },
	})); err != nil {
		return nil, fmt.Errorf("node informer handler: %w", err)
	}
	return loop, nil
}

// sync reconciles the routes with the nodes in the cache. On resyncKey,
// or after a failure, it rewrites every route and ensures masquerading.
func (c *Controller) sync(ctx context.Context, key string) error {
	force := c.force || key == resyncKey
	var err error
	if force && c.opts.PodSubnet != nil && c.opts.NAT != nil {
		err = c.opts.NAT.EnsureMasquerade(ctx, c.opts.PodSubnet)
	}
	if err == nil {
		var nodes []*corev1.Node
		if nodes, err = c.nodes.List(labels.Everything()); err == nil {
			err = c.reconcile(ctx, nodes, force)
		}
	}
	c.force = err != nil
	if err != nil {
		return fmt.Errorf("pod routes not in place: %w", err)
	}
	return nil
}

// Desired returns the routes this node needs: one per pod CIDR of every
// other node, through that node's InternalIP of the same family.
func Desired(self string, nodes []*corev1.Node) map[string]route {
	out := map[string]route{}
	for _, n := range nodes {
		if n.Name == self {
			continue
		}
		cidrs := n.Spec.PodCIDRs
		if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
			cidrs = []string{n.Spec.PodCIDR}
		}
		for _, s := range cidrs {
			_, dst, err := net.ParseCIDR(s)
			if err != nil {
				continue
			}
			if via := internalIP(n, dst.IP.To4() != nil); via != nil {
				out[dst.String()] = route{dst: dst, via: via}
			}
		}
	}
	return out
}

func internalIP(n *corev1.Node, v4 bool) net.IP {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip := net.ParseIP(a.Address); ip != nil && (ip.To4() != nil) == v4 {
			return ip
		}
	}
	return nil
}

// reconcile installs missing or moved routes (all of them when force) and
// removes those of nodes gone.
func (c *Controller) reconcile(ctx context.Context, nodes []*corev1.Node, force bool) error {
	want := Desired(c.opts.NodeName, nodes)
	var errs []error
	for _, dst := range sortedKeys(want) {
		r := want[dst]
		have, ok := c.routes[dst]
		if ok && have.via.Equal(r.via) && !force {
			continue
		}
		if err := c.opts.Router.Replace(ctx, r.dst, r.via); err != nil {
			errs = append(errs, fmt.Errorf("route %s via %s: %w", dst, r.via, err))
			continue
		}
		if !ok || !have.via.Equal(r.via) {
			c.opts.Logger.Info("pod route set", "dst", dst, "via", r.via.String())
		}
		c.routes[dst] = r
	}
	for _, dst := range sortedKeys(c.routes) {
		if _, ok := want[dst]; ok {
			continue
		}
		if err := c.opts.Router.Delete(ctx, c.routes[dst].dst); err != nil {
			errs = append(errs, fmt.Errorf("delete route %s: %w", dst, err))
			continue
		}
		c.opts.Logger.Info("pod route removed", "dst", dst)
		delete(c.routes, dst)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d route(s) failed, first: %w", len(errs), errs[0])
	}
	return nil
}

func sortedKeys(m map[string]route) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
