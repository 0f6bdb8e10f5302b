package nodelifecycle

import (
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
)

// zoneState is a zone's health as upstream's controller names it.
type zoneState string

const (
	stateInitial           zoneState = "Initial"
	stateNormal            zoneState = "Normal"
	stateFullDisruption    zoneState = "FullDisruption"
	statePartialDisruption zoneState = "PartialDisruption"
)

// evictionBurst is the burst of every zone's tainting rate limiter, as
// upstream's EvictionRateLimiterBurst.
const evictionBurst = 1

// zoneKey returns the zone a node is in, as upstream's
// topology.GetZoneKey: "<region>:\x00:<zone>" from the beta failure-domain
// labels or else the topology.kubernetes.io ones; "" for a node without
// either (every such node is one zone: the whole cluster in kinc).
func zoneKey(node *corev1.Node) string {
	l := node.Labels
	zone, ok := l[corev1.LabelFailureDomainBetaZone]
	if !ok {
		zone = l[corev1.LabelTopologyZone]
	}
	region, ok := l[corev1.LabelFailureDomainBetaRegion]
	if !ok {
		region = l[corev1.LabelTopologyRegion]
	}
	if region == "" && zone == "" {
		return ""
	}
	return region + ":\x00:" + zone
}

// computeZoneState returns how many of a zone's nodes are not Ready (a nil
// condition counts as not Ready) and the zone's state: FullDisruption when
// none is Ready, PartialDisruption when more than 2 and at least
// unhealthyThreshold of them are not Ready, Normal otherwise.
func computeZoneState(ready []*corev1.NodeCondition, unhealthyThreshold float32) (int, zoneState) {
	readyNodes, notReady := 0, 0
	for _, c := range ready {
		if c != nil && c.Status == corev1.ConditionTrue {
			readyNodes++
		} else {
			notReady++
		}
	}
	switch {
	case readyNodes == 0 && notReady > 0:
		return notReady, stateFullDisruption
	case notReady > 2 && float32(notReady)/float32(notReady+readyNodes) >= unhealthyThreshold:
		return notReady, statePartialDisruption
	default:
		return notReady, stateNormal
	}
}

// timedNode is a node waiting in a zone's tainting queue.
type timedNode struct {
	name      string
	uid       string
	processAt time.Time
}

// taintQueue is one zone's queue of nodes to give a NoExecute taint, as
// upstream's RateLimitedTimedQueue: unique names ordered by when to
// process them, tried at most at the zone's rate. A name stays known
// (Add refuses it) after it was processed until Remove forgets it. Its
// methods are safe for concurrent use.
type taintQueue struct {
	clock clock.PassiveClock

	mu      sync.Mutex // guards the fields below
	queue   []timedNode
	known   map[string]bool
	qps     float32
	limiter flowcontrol.PassiveRateLimiter
}

func newTaintQueue(qps float32, clk clock.PassiveClock) *taintQueue {
	q := &taintQueue{clock: clk, known: map[string]bool{}}
	q.qps, q.limiter = qps, newLimiter(qps, clk)
	return q
}

// newLimiter returns a token bucket of qps and burst 1, or one that never
// accepts for qps <= 0 (evictions stopped).
func newLimiter(qps float32, clk clock.PassiveClock) flowcontrol.PassiveRateLimiter {
	if qps <= 0 {
		return neverLimiter{}
	}
	return flowcontrol.NewTokenBucketPassiveRateLimiterWithClock(qps, evictionBurst, clk)
}

// neverLimiter accepts nothing.
type neverLimiter struct{}

func (neverLimiter) TryAccept() bool { return false }
func (neverLimiter) Stop()           {}
func (neverLimiter) QPS() float32    { return 0 }

// Add queues name to be processed now unless it is known; it returns
// whether it was added.
func (q *taintQueue) Add(name, uid string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.known[name] {
		return false
	}
	q.known[name] = true
	q.insert(timedNode{name: name, uid: uid, processAt: q.clock.Now()})
	return true
}

// insert puts n in processAt order, after the entries due at the same time.
func (q *taintQueue) insert(n timedNode) {
	i, _ := slices.BinarySearchFunc(q.queue, n.processAt, func(e timedNode, t time.Time) int {
		if e.processAt.After(t) {
			return 1
		}
		return -1
	})
	q.queue = slices.Insert(q.queue, i, n)
}

// Remove forgets name (queued or processed); it returns whether it was
// known.
func (q *taintQueue) Remove(name string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.known[name] {
		return false
	}
	delete(q.known, name)
	q.queue = slices.DeleteFunc(q.queue, func(e timedNode) bool { return e.name == name })
	return true
}

// Try calls fn with the nodes due, earliest first, each one taking a token
// of the limiter; it stops at the first node not due or when the limiter
// refuses. fn returns done, or a delay after which to try the node again.
// A done node leaves the queue but stays known. fn is called without q's
// lock held (it may take long: API calls); a node removed meanwhile is
// not queued again.
func (q *taintQueue) Try(fn func(n timedNode) (done bool, retryAfter time.Duration)) {
	for {
		q.mu.Lock()
		if len(q.queue) == 0 || !q.limiter.TryAccept() {
			q.mu.Unlock()
			return
		}
		head := q.queue[0]
		now := q.clock.Now()
		if now.Before(head.processAt) {
			q.mu.Unlock()
			return
		}
		q.queue = q.queue[1:]
		q.mu.Unlock()

		done, wait := fn(head)
		if done {
			continue
		}
		q.mu.Lock()
		if q.known[head.name] && !slices.ContainsFunc(q.queue, func(e timedNode) bool { return e.name == head.name }) {
			head.processAt = now.Add(wait + 1)
			q.insert(head)
		}
		q.mu.Unlock()
	}
}

// SwapLimiter changes the rate to qps (0 stops processing). When the old
// limiter had no token left, the new one starts without one too, as
// upstream does with its burst of 1.
func (q *taintQueue) SwapLimiter(qps float32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.qps == qps {
		return
	}
	l := newLimiter(qps, q.clock)
	if qps > 0 && !q.limiter.TryAccept() {
		l.TryAccept()
	}
	q.limiter.Stop()
	q.qps, q.limiter = qps, l
}

// Len returns the number of queued nodes.
func (q *taintQueue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}
