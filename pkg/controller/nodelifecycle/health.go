package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/util/workqueue"
)

// errStaleLease is tryUpdateNodeHealth's refusal to mark a node Unknown
// while the informer's Lease may be stale; it is not retried in the pass.
var errStaleLease = errors.New("node lease cache is not up to date")

// healthUpdateRetries is how many times the status of one node is written
// in one pass before giving up until the next, as upstream's
// NodeHealthUpdateRetry.
const healthUpdateRetries = 5

// nodeHealth is what the controller last observed of a node, on its own
// clock (never the kubelet's timestamps, which may be skewed).
type nodeHealth struct {
	// probeTimestamp is when the node last gave a sign of life: a new
	// Ready heartbeat or a renewed Lease.
	probeTimestamp time.Time
	// readyTransitionTimestamp is when its Ready condition last changed.
	readyTransitionTimestamp time.Time
	status                   *corev1.NodeStatus
	lease                    *coordinationv1.Lease
}

// healthMap holds the nodeHealth of every node seen. Safe for concurrent
// use; it hands out and takes copies.
type healthMap struct {
	mu sync.RWMutex // guards m
	m  map[string]*nodeHealth
}

func (h *healthMap) get(name string) *nodeHealth {
	h.mu.RLock()
	defer h.mu.RUnlock()
	v := h.m[name]
	if v == nil {
		return nil
	}
	cp := *v
	cp.status = v.status.DeepCopy()
	cp.lease = v.lease.DeepCopy()
	return &cp
}

func (h *healthMap) set(name string, v *nodeHealth) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.m[name] = v
}

func (h *healthMap) delete(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, name)
}

// readyCondition returns status's Ready condition, or nil.
func readyCondition(status *corev1.NodeStatus) *corev1.NodeCondition {
	return condition(status, corev1.NodeReady)
}

func condition(status *corev1.NodeStatus, t corev1.NodeConditionType) *corev1.NodeCondition {
	if status == nil {
		return nil
	}
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// monitorNodeHealth is one pass of upstream's monitorNodeHealth: it records
// nodes registered and removed, marks the nodes whose kubelet stopped
// posting status or renewing its Lease for longer than the grace period
// Unknown, queues not-Ready nodes for their NoExecute taint (or removes it
// from Ready ones), marks the pods of nodes that just stopped being Ready
// not ready, and adjusts each zone's tainting rate to its health.
func (c *Controller) monitorNodeHealth(ctx context.Context) error {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	slices.SortFunc(nodes, func(a, b *corev1.Node) int { return strings.Compare(a.Name, b.Name) })
	c.monitorMu.Lock()
	defer c.monitorMu.Unlock()
	c.classifyNodes(ctx, nodes)

	var mu sync.Mutex // guards zoneConditions
	zoneConditions := map[string][]*corev1.NodeCondition{}
	workqueue.ParallelizeUntil(ctx, c.opts.HealthWorkers, len(nodes), func(i int) {
		node := nodes[i].DeepCopy()
		observed, current, err := c.updateNodeHealth(ctx, node)
		if err != nil {
			c.Logger().Error("updating the health of a node; no pods will be evicted from it", "node", node.Name, "err", err)
			return
		}
		if _, excluded := node.Labels[labelExcludeDisruption]; !excluded {
			mu.Lock()
			zoneConditions[zoneKey(node)] = append(zoneConditions[zoneKey(node)], current)
			mu.Unlock()
		}
		if current == nil {
			c.retry.Delete(node.Name)
			return
		}
		pods, err := c.podsOnNode(node.Name)
		if err != nil {
			c.Logger().Error("listing the pods of a node", "node", node.Name, "err", err)
			if current.Status != corev1.ConditionTrue && observed.Status == corev1.ConditionTrue {
				c.retry.Store(node.Name, true)
			}
			return
		}
		c.processTaintBasedEviction(ctx, node, current)
		_, needsRetry := c.retry.Load(node.Name)
		becameNotReady := current.Status != corev1.ConditionTrue && observed.Status == corev1.ConditionTrue
		if becameNotReady {
			c.recordNodeStatusChange(node, "NodeNotReady")
		}
		if becameNotReady || (needsRetry && observed.Status != corev1.ConditionTrue) {
			if err := c.markPodsNotReady(ctx, pods, node.Name); err != nil {
				c.Logger().Error("marking the pods of a node not ready; will retry", "node", node.Name, "err", err)
				c.retry.Store(node.Name, true)
				return
			}
		}
		c.retry.Delete(node.Name)
	})
	c.handleDisruption(ctx, zoneConditions, nodes)
	return nil
}

// labelExcludeDisruption excludes a node from its zone's health.
const labelExcludeDisruption = "node.kubernetes.io/exclude-disruption"

// classifyNodes records the Normal events RegisteredNode and RemovingNode
// for nodes new to the controller and nodes gone, creates the tainting
// queue of zones seen for the first time, and takes the NoExecute taints
// off nodes seen for the first time (a restarted controller starts
// afresh, as upstream's). Called with monitorMu held.
func (c *Controller) classifyNodes(ctx context.Context, nodes []*corev1.Node) {
	seen := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		seen[n.Name] = true
		c.addZone(zoneKey(n))
		if _, known := c.known[n.Name]; known {
			continue
		}
		c.Logger().Info("observed a new node", "node", n.Name)
		c.recordNodeEvent(n.Name, n.UID, "RegisteredNode", fmt.Sprintf("Registered Node %s in Controller", n.Name))
		c.known[n.Name] = n
		if _, err := c.markNodeAsReachable(ctx, n); err != nil {
			c.Logger().Error("removing the NoExecute taints of a new node", "node", n.Name, "err", err)
		}
	}
	for name, n := range c.known {
		if seen[name] {
			continue
		}
		c.Logger().Info("observed a node deletion", "node", name)
		c.recordNodeEvent(name, n.UID, "RemovingNode", fmt.Sprintf("Removing Node %s from Controller", name))
		delete(c.known, name)
		c.health.delete(name)
		c.retry.Delete(name)
	}
}

// updateNodeHealth runs tryUpdateNodeHealth, re-reading the node from the
// API and trying again when writing its status failed (a conflict), up to
// healthUpdateRetries times. It returns the Ready condition as observed
// and as it is now.
func (c *Controller) updateNodeHealth(ctx context.Context, node *corev1.Node) (observed corev1.NodeCondition, current *corev1.NodeCondition, err error) {
	for attempt := 1; ; attempt++ {
		observed, current, err = c.tryUpdateNodeHealth(ctx, node)
		if err == nil || errors.Is(err, errStaleLease) || attempt == healthUpdateRetries || ctx.Err() != nil {
			return observed, current, err
		}
		fresh, getErr := c.client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if getErr != nil {
			return observed, current, fmt.Errorf("%w; re-reading the node: %w", err, getErr)
		}
		node = fresh
	}
}

// tryUpdateNodeHealth decides whether node is healthy, as upstream's
// tryUpdateNodeHealth: a node whose Ready heartbeat did not change and
// whose Lease in kube-node-lease was not renewed for longer than the
// grace period (the startup grace period for a node that never posted a
// Ready condition) gets its Ready, MemoryPressure, DiskPressure and
// PIDPressure conditions set to Unknown (reason NodeStatusUnknown,
// "Kubelet stopped posting node status."; NodeStatusNeverUpdated,
// "Kubelet never posted node status." for one never posted) through
// nodes/status, unless the live Lease differs from the one the cache gave
// (errStaleLease: the cache lags, the node is left alone this pass, as
// upstream's NodeControllerLeaseCircuitBreaker). node is modified. It returns the Ready condition as
// observed and the current one (nil when the node has none).
func (c *Controller) tryUpdateNodeHealth(ctx context.Context, node *corev1.Node) (corev1.NodeCondition, *corev1.NodeCondition, error) {
	health := c.health.get(node.Name)
	defer func() { c.health.set(node.Name, health) }()
	now := c.Clock().Now()

	var observed corev1.NodeCondition
	gracePeriod := c.opts.NodeMonitorGracePeriod
	current := readyCondition(&node.Status)
	if current == nil {
		// Never posted: pretend a Ready=Unknown heartbeat at creation.
		observed = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown,
			LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: node.CreationTimestamp}
		gracePeriod = c.opts.NodeStartupGracePeriod
		if health != nil {
			health.status = &node.Status
		} else {
			health = &nodeHealth{status: &node.Status, probeTimestamp: node.CreationTimestamp.Time,
				readyTransitionTimestamp: node.CreationTimestamp.Time}
		}
	} else {
		observed = *current
	}

	var saved *corev1.NodeCondition
	var savedLease *coordinationv1.Lease
	if health != nil {
		saved, savedLease = readyCondition(health.status), health.lease
	}
	switch {
	case health == nil, saved == nil && current != nil, saved != nil && current == nil:
		// First sight, a restarted controller, or a Ready condition
		// removed (someone else's doing): start counting now.
		health = &nodeHealth{status: &node.Status, probeTimestamp: now, readyTransitionTimestamp: now, lease: savedLease}
	case saved != nil && current != nil && !saved.LastHeartbeatTime.Equal(&current.LastHeartbeatTime):
		transition := health.readyTransitionTimestamp
		if !saved.LastTransitionTime.Equal(&current.LastTransitionTime) {
			transition = now
		}
		health = &nodeHealth{status: &node.Status, probeTimestamp: now, readyTransitionTimestamp: transition, lease: savedLease}
	}
	// A renewed Lease is a sign of life too (a kubelet posts its status
	// only every few minutes when nothing changes).
	lease, _ := c.leases.Leases(corev1.NamespaceNodeLease).Get(node.Name)
	if lease != nil && (health.lease == nil || health.lease.Spec.RenewTime.Before(lease.Spec.RenewTime)) {
		health.lease = lease
		health.probeTimestamp = now
	}

	if !now.After(health.probeTimestamp.Add(gracePeriod)) {
		return observed, current, nil
	}
	// Upstream's NodeControllerLeaseCircuitBreaker (beta, on in 1.37): the
	// cache may lag behind a renewal; a live Lease other than the one seen
	// leaves the node alone this pass.
	if live, err := c.client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, node.Name, metav1.GetOptions{}); err == nil {
		seen := ""
		if health.lease != nil {
			seen = health.lease.ResourceVersion
		}
		if live.ResourceVersion != seen {
			return observed, current, fmt.Errorf("%w: node %s's Lease is at resourceVersion %s, the cache at %q", errStaleLease, node.Name, live.ResourceVersion, seen)
		}
	} else if !apierrors.IsNotFound(err) {
		return observed, current, fmt.Errorf("%w: reading node %s's Lease: %w", errStaleLease, node.Name, err)
	}
	stamp := metav1.NewTime(now)
	for _, t := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		// NetworkUnavailable is the network plugin's, left alone.
		cond := condition(&node.Status, t)
		switch {
		case cond == nil:
			node.Status.Conditions = append(node.Status.Conditions, corev1.NodeCondition{Type: t, Status: corev1.ConditionUnknown,
				Reason: "NodeStatusNeverUpdated", Message: "Kubelet never posted node status.",
				LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: stamp})
		case cond.Status != corev1.ConditionUnknown:
			cond.Status = corev1.ConditionUnknown
			cond.Reason = "NodeStatusUnknown"
			cond.Message = "Kubelet stopped posting node status."
			cond.LastTransitionTime = stamp
		}
	}
	current = readyCondition(&node.Status)
	if apiequality.Semantic.DeepEqual(current, &observed) {
		return observed, current, nil
	}
	c.Logger().Info("node stopped posting status; marking it Unknown", "node", node.Name,
		"silentFor", now.Sub(health.probeTimestamp).String(), "gracePeriod", gracePeriod.String())
	if _, err := c.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		return observed, current, fmt.Errorf("updating the status of node %s: %w", node.Name, err)
	}
	health = &nodeHealth{status: &node.Status, probeTimestamp: health.probeTimestamp, readyTransitionTimestamp: now, lease: lease}
	return observed, current, nil
}

// processTaintBasedEviction keeps the NoExecute taint of node matching its
// Ready condition: a not-ready or unreachable node already tainted with
// the other taint has it swapped at once; otherwise it is queued for its
// zone's rate-limited tainting. A Ready node loses both taints.
func (c *Controller) processTaintBasedEviction(ctx context.Context, node *corev1.Node, ready *corev1.NodeCondition) {
	switch ready.Status {
	case corev1.ConditionFalse, corev1.ConditionUnknown:
		want, other := notReadyTaint, unreachableTaint
		if ready.Status == corev1.ConditionUnknown {
			want, other = unreachableTaint, notReadyTaint
		}
		if hasTaint(node.Spec.Taints, other) {
			if err := swapTaints(ctx, c.client, node.Name, []corev1.Taint{want}, []corev1.Taint{other}, metav1.NewTime(c.Clock().Now())); err != nil {
				c.Logger().Error("swapping the NoExecute taint of a node; will try again next pass", "node", node.Name, "taint", want.Key, "err", err)
			}
			return
		}
		if c.markNodeForTainting(node, want) {
			c.Logger().Info("node is not ready; queued for its NoExecute taint", "node", node.Name, "taint", want.Key)
		}
	case corev1.ConditionTrue:
		removed, err := c.markNodeAsReachable(ctx, node)
		if err != nil {
			c.Logger().Error("removing the NoExecute taints of a node; will try again next pass", "node", node.Name, "err", err)
		}
		if removed {
			c.Logger().Info("node is healthy again; its NoExecute taints are removed", "node", node.Name)
		}
	}
}

// markNodeForTainting queues node in its zone for the taint want (again
// when the node lacks it although it was processed); it returns whether
// the node was queued.
func (c *Controller) markNodeForTainting(node *corev1.Node, want corev1.Taint) bool {
	q := c.zoneQueue(zoneKey(node))
	if !hasTaint(node.Spec.Taints, want) {
		q.Remove(node.Name)
	}
	return q.Add(node.Name, string(node.UID))
}

// markNodeAsReachable removes both NoExecute taints from node (no API call
// when the node, as given, has neither) and forgets it in its zone's
// queue; it returns whether the queue knew it.
func (c *Controller) markNodeAsReachable(ctx context.Context, node *corev1.Node) (bool, error) {
	if hasTaint(node.Spec.Taints, unreachableTaint) || hasTaint(node.Spec.Taints, notReadyTaint) {
		if err := swapTaints(ctx, c.client, node.Name, nil, []corev1.Taint{unreachableTaint, notReadyTaint}, metav1.Time{}); err != nil {
			return false, err
		}
	}
	return c.zoneQueue(zoneKey(node)).Remove(node.Name), nil
}
