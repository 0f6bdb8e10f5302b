package nodelifecycle

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// addZone creates the tainting queue of a zone not seen before, at the
// healthy rate. Called with monitorMu held.
func (c *Controller) addZone(zone string) {
	if _, ok := c.zoneStates[zone]; ok {
		return
	}
	c.zoneStates[zone] = stateInitial
	c.zonesMu.Lock()
	defer c.zonesMu.Unlock()
	if c.zones[zone] == nil {
		c.zones[zone] = newTaintQueue(c.opts.NodeEvictionRate, c.Clock())
	}
}

// zoneQueue returns zone's tainting queue, created on first use.
func (c *Controller) zoneQueue(zone string) *taintQueue {
	c.zonesMu.Lock()
	defer c.zonesMu.Unlock()
	q := c.zones[zone]
	if q == nil {
		q = newTaintQueue(c.opts.NodeEvictionRate, c.Clock())
		c.zones[zone] = q
	}
	return q
}

// handleDisruption sets each zone's state from the Ready conditions of its
// nodes and its tainting rate from the state, as upstream's
// handleDisruption: --node-eviction-rate when Normal;
// --secondary-node-eviction-rate when PartialDisruption in a zone larger
// than --large-cluster-size-threshold, else 0 (stopped); the normal rate
// for a zone fully disrupted while others are not. When every zone is
// fully disrupted (the control plane more likely lost its nodes than all
// nodes died) tainting stops and every node loses its NoExecute taints;
// when some zone comes back, every node's health timestamps restart.
// Called with monitorMu held.
func (c *Controller) handleDisruption(ctx context.Context, zoneConditions map[string][]*corev1.NodeCondition, nodes []*corev1.Node) {
	newStates := map[string]zoneState{}
	allAreFullyDisrupted := true
	for zone, conds := range zoneConditions {
		_, state := computeZoneState(conds, c.opts.UnhealthyZoneThreshold)
		if state != stateFullDisruption {
			allAreFullyDisrupted = false
		}
		newStates[zone] = state
		if _, had := c.zoneStates[zone]; !had {
			c.zoneStates[zone] = stateInitial
		}
	}
	allWereFullyDisrupted := true
	for zone, state := range c.zoneStates {
		if _, have := zoneConditions[zone]; !have {
			delete(c.zoneStates, zone)
			continue
		}
		if state != stateFullDisruption {
			allWereFullyDisrupted = false
		}
	}
	if allAreFullyDisrupted && allWereFullyDisrupted {
		return
	}
	switch {
	case allAreFullyDisrupted:
		c.Logger().Info("all nodes are not ready: entering master disruption mode, NoExecute tainting stops")
		for _, n := range nodes {
			if _, err := c.markNodeAsReachable(ctx, n); err != nil {
				c.Logger().Error("removing the NoExecute taints of a node", "node", n.Name, "err", err)
			}
		}
		for zone := range c.zoneStates {
			c.zoneQueue(zone).SwapLimiter(0)
			c.zoneStates[zone] = stateFullDisruption
		}
	case allWereFullyDisrupted:
		c.Logger().Info("some nodes are ready: leaving master disruption mode")
		now := c.Clock().Now()
		for _, n := range nodes {
			if h := c.health.get(n.Name); h != nil {
				h.probeTimestamp, h.readyTransitionTimestamp = now, now
				c.health.set(n.Name, h)
			}
		}
		for zone := range c.zoneStates {
			c.setZoneRate(zone, len(zoneConditions[zone]), newStates[zone])
			c.zoneStates[zone] = newStates[zone]
		}
	default:
		for zone, state := range c.zoneStates {
			if state == newStates[zone] {
				continue
			}
			c.Logger().Info("zone changed state", "zone", zone, "state", string(newStates[zone]))
			c.setZoneRate(zone, len(zoneConditions[zone]), newStates[zone])
			c.zoneStates[zone] = newStates[zone]
		}
	}
}

// setZoneRate sets the tainting rate of a zone of size nodes in state.
func (c *Controller) setZoneRate(zone string, size int, state zoneState) {
	q := c.zoneQueue(zone)
	switch state {
	case stateNormal, stateFullDisruption:
		q.SwapLimiter(c.opts.NodeEvictionRate)
	case statePartialDisruption:
		if int32(size) > c.opts.LargeClusterSizeThreshold {
			q.SwapLimiter(c.opts.SecondaryNodeEvictionRate)
		} else {
			q.SwapLimiter(0)
		}
	}
}

// noExecuteTaintingPass gives the nodes due in every zone's queue, at the
// zone's rate, the NoExecute taint of their Ready condition now
// (unreachable for Unknown, not-ready for False), removing the other; a
// node Ready again meanwhile, or gone, is dropped.
func (c *Controller) noExecuteTaintingPass(ctx context.Context) {
	c.zonesMu.Lock()
	queues := make([]*taintQueue, 0, len(c.zones))
	for _, q := range c.zones {
		queues = append(queues, q)
	}
	c.zonesMu.Unlock()
	for _, q := range queues {
		q.Try(func(n timedNode) (bool, time.Duration) {
			node, err := c.nodes.Get(n.name)
			if apierrors.IsNotFound(err) {
				return true, 0
			}
			if err != nil {
				return false, 50 * time.Millisecond
			}
			ready := readyCondition(&node.Status)
			if ready == nil {
				return false, 50 * time.Millisecond
			}
			var want, other corev1.Taint
			switch ready.Status {
			case corev1.ConditionFalse:
				want, other = notReadyTaint, unreachableTaint
			case corev1.ConditionUnknown:
				want, other = unreachableTaint, notReadyTaint
			default:
				return true, 0 // Ready again
			}
			if err := swapTaints(ctx, c.client, node.Name, []corev1.Taint{want}, []corev1.Taint{other}, metav1.NewTime(c.Clock().Now())); err != nil {
				c.Logger().Error("tainting a node", "node", node.Name, "taint", want.Key, "err", err)
				return false, 0
			}
			c.Logger().Info("tainted a node", "node", node.Name, "taint", want.Key, "effect", string(want.Effect))
			return true, 0
		})
	}
}
