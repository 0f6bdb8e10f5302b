// Package cniconfig writes this node's CNI configuration from its Node's
// pod range, as kindnetd does in kind: the kube-controller-manager's
// node-ipam-controller gives the Node spec.podCIDR(s), and this controller,
// watching only its own Node, then writes the configuration file (a
// bridge with host-local addresses from the pod range, plus portmap)
// atomically. Until the file exists the container runtime reports its
// network not ready, so the kubelet starts no pod-network pod and reports
// the node NotReady; host-network pods (the control plane's static pods)
// run meanwhile. The file is rewritten only when its content changes; it
// is left in place when the Node is gone.
package cniconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// DefaultPath is where kinc's default CNI configuration lives on a node:
// containerd's CNI conf_dir, a name sorting first.
const DefaultPath = "/etc/cni/net.d/10-kinc.conflist"

// Render returns the CNI configuration of a node whose pod ranges are
// podCIDRs (one per IP family): a bridge "kinc0" that is the pods'
// gateway, with host-local addresses from the ranges and a default route
// per family, and portmap for hostPort. No ipMasq: the bridge plugin would
// masquerade traffic to other nodes' pods too; kinc-node routes
// masquerades only what leaves the cluster's pod subnet. Debian's
// containernetworking-plugins provide the plugins.
func Render(podCIDRs []string) ([]byte, error) {
	if len(podCIDRs) == 0 {
		return nil, errors.New("no pod CIDR")
	}
	ranges := make([][]map[string]string, 0, len(podCIDRs))
	var routes []map[string]string
	for _, c := range podCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("pod CIDR %q: %w", c, err)
		}
		ranges = append(ranges, []map[string]string{{"subnet": p.Masked().String()}})
		dst := "0.0.0.0/0"
		if !p.Addr().Is4() {
			dst = "::/0"
		}
		routes = append(routes, map[string]string{"dst": dst})
	}
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "kinc",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": "kinc0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{"type": "host-local", "ranges": ranges, "routes": routes},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}

// WriteFile writes data to path atomically: a temporary file in path's
// directory (created when missing), synced, then renamed over path. The
// temporary name ends in ".tmp", an extension the CNI loader ignores, so
// the runtime never reads half a configuration. Unchanged content is not
// written again; changed reports whether it was.
func WriteFile(path string, data []byte, mode os.FileMode) (changed bool, err error) {
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return false, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing is left to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	return true, nil
}

// Options configure a Controller.
type Options struct {
	// NodeName is this node's Node.
	NodeName string
	Client   kubernetes.Interface
	// Path is the configuration file; empty means DefaultPath.
	Path string
	// RetryAfter is the wait before a failed write is retried. Zero means
	// two seconds.
	RetryAfter time.Duration
	Logger     *slog.Logger
}

// Controller writes the CNI configuration once, and whenever, this node's
// Node has a pod range. It runs on pkg/controller's loop with one worker.
type Controller struct {
	opts  Options
	nodes corelisters.NodeLister
	// waiting is set once "waiting for a pod range" was logged.
	waiting bool
}

// New returns a controller; Run starts it.
func New(opts Options) *Controller {
	if opts.Path == "" {
		opts.Path = DefaultPath
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Controller{opts: opts}
}

// Run watches this node's Node and keeps the configuration until ctx ends.
// It returns ctx's error when ctx ends before the Node was listed, nil
// after.
func (c *Controller) Run(ctx context.Context) error {
	factory := informers.NewSharedInformerFactoryWithOptions(c.opts.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", c.opts.NodeName).String()
		}))
	loop, err := c.newLoop(factory)
	if err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	c.opts.Logger.Info("watching the node for its pod range", "node", c.opts.NodeName, "path", c.opts.Path)
	if err := loop.Run(ctx, 1); errors.Is(err, controller.ErrNotSynced) {
		return ctx.Err()
	} else if err != nil {
		return err
	}
	return nil
}

// newLoop sets the node lister from factory and returns the loop calling
// sync on every event of the Node, and RetryAfter after a failure.
func (c *Controller) newLoop(factory informers.SharedInformerFactory) (*controller.Loop, error) {
	inf := factory.Core().V1().Nodes()
	c.nodes = inf.Lister()
	loop := controller.New(controller.Config{Name: "cni-config", Sync: c.sync, Logger: c.opts.Logger,
		Synced:      []cache.InformerSynced{inf.Informer().HasSynced},
		RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[string](c.opts.RetryAfter, c.opts.RetryAfter)})
	if _, err := inf.Informer().AddEventHandler(loop.Handler(controller.HandlerOptions{
		Filter: func(obj any) bool {
			n, ok := controller.Object[*corev1.Node](obj)
			return ok && n.Name == c.opts.NodeName
		},
	})); err != nil {
		return nil, fmt.Errorf("node informer handler: %w", err)
	}
	return loop, nil
}

// sync writes the configuration of the Node's pod range; a Node without
// one (not registered yet, or waiting for the node-ipam-controller) or
// gone leaves the file as it is.
func (c *Controller) sync(_ context.Context, key string) error {
	n, err := c.nodes.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	cidrs := n.Spec.PodCIDRs
	if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
		cidrs = []string{n.Spec.PodCIDR}
	}
	if len(cidrs) == 0 {
		if !c.waiting {
			c.opts.Logger.Info("waiting for the node's pod range (spec.podCIDR, given by the kube-controller-manager's node-ipam-controller)", "node", key)
			c.waiting = true
		}
		return nil
	}
	data, err := Render(cidrs)
	if err != nil {
		c.opts.Logger.Error("the node's pod range is unusable", "node", key, "podCIDRs", cidrs, "err", err)
		return nil // retrying would not change the Node
	}
	changed, err := WriteFile(c.opts.Path, data, 0o644)
	if err != nil {
		return err
	}
	if changed {
		c.opts.Logger.Info("CNI configuration written", "path", c.opts.Path, "podCIDRs", strings.Join(cidrs, ","))
	}
	return nil
}
