package nodestatus

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

// LeaseNamespace holds the node Leases.
const LeaseNamespace = "kube-node-lease"

// Controller registers the node and keeps its status and Lease fresh.
type Controller struct {
	cfg     Config
	client  kubernetes.Interface
	runtime cri.Runtime
	clock   clock.Clock
	probe   func() Machine
	logger  *slog.Logger

	mu         sync.Mutex // guards the fields below
	nodeUID    types.UID
	lastStatus *v1.NodeStatus
	lastPost   time.Time
}

// New returns a Controller; probe reads the machine (Probe in production).
func New(cfg Config, client kubernetes.Interface, runtime cri.Runtime, c clock.Clock, probe func() Machine, logger *slog.Logger) *Controller {
	return &Controller{cfg: cfg, client: client, runtime: runtime, clock: c, probe: probe, logger: logger}
}

// NodeUID returns the registered Node's UID ("" before registration).
func (c *Controller) NodeUID() types.UID {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodeUID
}

// Register creates the Node, or adopts an existing one (adding our labels
// and taints to it). Idempotent.
func (c *Controller) Register(ctx context.Context) error {
	want := c.newNode()
	node, err := c.client.CoreV1().Nodes().Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		node, err = c.client.CoreV1().Nodes().Get(ctx, want.Name, metav1.GetOptions{})
		if err == nil {
			changed := false
			for k, v := range want.Labels {
				if node.Labels[k] != v {
					if node.Labels == nil {
						node.Labels = map[string]string{}
					}
					node.Labels[k], changed = v, true
				}
			}
			if changed {
				node, err = c.client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
			}
		}
	}
	if err != nil {
		return fmt.Errorf("register node %s: %w", want.Name, err)
	}
	c.mu.Lock()
	c.nodeUID = node.UID
	c.mu.Unlock()
	c.logger.Info("node registered", "node", node.Name, "uid", node.UID)
	return nil
}

// UpdateStatus posts the node status when it changed, or when reportEvery
// has passed since the last post.
func (c *Controller) UpdateStatus(ctx context.Context, reportEvery time.Duration) error {
	node, err := c.client.CoreV1().Nodes().Get(ctx, c.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return c.Register(ctx) // deleted under us: register again
	}
	if err != nil {
		return fmt.Errorf("get node: %w", err)
	}
	st := c.status(ctx, &node.Status)
	c.mu.Lock()
	c.nodeUID = node.UID
	unchanged := c.lastStatus != nil && sameStatus(*c.lastStatus, st) && sameStatus(node.Status, st) && c.clock.Since(c.lastPost) < reportEvery
	c.mu.Unlock()
	if unchanged {
		return nil
	}
	node.Status = st
	if _, err := c.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update node status: %w", err)
	}
	c.mu.Lock()
	c.lastStatus, c.lastPost = &st, c.clock.Now()
	c.mu.Unlock()
	return nil
}

// sameStatus compares statuses ignoring heartbeat times and the small
// churn of available resources.
func sameStatus(a, b v1.NodeStatus) bool {
	strip := func(s v1.NodeStatus) v1.NodeStatus {
		s = *s.DeepCopy()
		for i := range s.Conditions {
			s.Conditions[i].LastHeartbeatTime = metav1.Time{}
		}
		s.Images = nil
		return s
	}
	return apiequality.Semantic.DeepEqual(strip(a), strip(b))
}

// RenewLease creates or renews the node's Lease.
func (c *Controller) RenewLease(ctx context.Context) error {
	leases := c.client.CoordinationV1().Leases(LeaseNamespace)
	now := metav1.NewMicroTime(c.clock.Now())
	lease, err := leases.Get(ctx, c.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		holder, dur := c.cfg.NodeName, c.cfg.LeaseDuration
		l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: c.cfg.NodeName, Namespace: LeaseNamespace},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &now}}
		if uid := c.NodeUID(); uid != "" {
			l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: c.cfg.NodeName, UID: uid}}
		}
		_, err = leases.Create(ctx, l, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	lease.Spec.RenewTime = &now
	holder, dur := c.cfg.NodeName, c.cfg.LeaseDuration
	lease.Spec.HolderIdentity, lease.Spec.LeaseDurationSeconds = &holder, &dur
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

// Run registers the node (retrying), then updates its status every
// statusEvery (posting at least every reportEvery) and renews the Lease every
// quarter of the lease duration (10 s by default), until ctx ends.
func (c *Controller) Run(ctx context.Context, statusEvery, reportEvery time.Duration) {
	for {
		err := c.Register(ctx)
		if err == nil {
			break
		}
		c.logger.Warn("node registration failed, retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(2 * time.Second):
		}
	}
	leaseEvery := time.Duration(c.cfg.LeaseDuration) * time.Second / 4
	go c.loop(ctx, leaseEvery, func() error { return c.RenewLease(ctx) }, "lease renewal")
	c.loop(ctx, statusEvery, func() error { return c.UpdateStatus(ctx, reportEvery) }, "node status update")
}

func (c *Controller) loop(ctx context.Context, every time.Duration, f func() error, what string) {
	for {
		if err := f(); err != nil && ctx.Err() == nil {
			c.logger.Warn(what+" failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(every):
		}
	}
}
