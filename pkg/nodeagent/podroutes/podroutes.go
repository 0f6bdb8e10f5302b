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
	"k8s.io/client-go/tools/cache"

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

// Controller keeps the routes to the other nodes' pod ranges.
type Controller struct {
	opts Options
	// routes are the routes installed, by destination.
	routes map[string]route
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

// Run watches the nodes and keeps the routes until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactory(c.opts.Client, 0)
	inf := factory.Core().V1().Nodes()
	changed := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	if _, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    poke,
		UpdateFunc: func(_, n any) { poke(n) },
		DeleteFunc: poke,
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	c.opts.Logger.Info("watching nodes for pod routes", "node", c.opts.NodeName)
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return ctx.Err()
	}
	lister := inf.Lister()
	resync := time.NewTicker(c.opts.Resync)
	defer resync.Stop()
	var retry <-chan time.Time
	force := true
	for {
		var err error
		if force && c.opts.PodSubnet != nil && c.opts.NAT != nil {
			err = c.opts.NAT.EnsureMasquerade(ctx, c.opts.PodSubnet)
		}
		if err == nil {
			var nodes []*corev1.Node
			if nodes, err = lister.List(labels.Everything()); err == nil {
				err = c.reconcile(ctx, nodes, force)
			}
		}
		retry = nil
		if err != nil {
			c.opts.Logger.Warn("pod routes not in place, retrying", "err", err, "after", c.opts.RetryAfter)
			retry = time.After(c.opts.RetryAfter)
		}
		force = false
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-retry:
			force = true
		case <-resync.C:
			force = true
		}
	}
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
