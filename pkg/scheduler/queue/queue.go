// Package queue is the scheduler's queue of pods waiting for a node. It
// keeps three sets, as upstream's PriorityQueue:
//
//   - activeQ: pods to try now, ordered by priority (highest first), then
//     by the time they were queued (earliest first);
//   - backoffQ: pods that failed recently and wait out a per-pod backoff
//     (initial 1 s, doubling per attempt up to 10 s) before going back to
//     activeQ;
//   - unschedulable: pods no node fits; they wait for a cluster change that
//     could help (MoveAllToActiveOrBackoffQueue: a node added or updated, a
//     pod deleted …), or at most 5 minutes.
//
// A pod is in at most one of them; a pod handed out by Pop is in none until
// the scheduler returns it with AddUnschedulableIfNotPresent. Time comes
// from an injected clock.
package queue

import (
	"errors"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// ErrClosed is returned by Pop once the queue is closed.
var ErrClosed = errors.New("queue: closed")

// QueuedPodInfo is a pod in the queue with its scheduling history.
type QueuedPodInfo struct {
	Pod *v1.Pod
	// Timestamp is when the pod was last queued (orders activeQ and starts
	// the backoff).
	Timestamp time.Time
	// Attempts counts scheduling attempts; InitialAttemptTimestamp is the
	// first one (nil before).
	Attempts                int
	InitialAttemptTimestamp *time.Time
	// UnschedulablePlugins names the plugins that rejected the pod in its
	// last attempt; Error is set when the attempt failed with an error
	// rather than a rejection.
	UnschedulablePlugins sets.Set[string]
	Error                bool
	key                  string
}

// Options tunes a queue; zero values take upstream's defaults.
type Options struct {
	InitialBackoff     time.Duration // default 1s
	MaxBackoff         time.Duration // default 10s
	MaxInUnschedulable time.Duration // default 5m
}

// PriorityQueue is safe for concurrent use.
type PriorityQueue struct {
	clock clock.WithTicker
	opts  Options

	mu              sync.Mutex // guards the fields below
	cond            *sync.Cond // on mu: signalled when activeQ gains a pod or the queue closes
	activeQ         *keyedHeap
	backoffQ        *keyedHeap
	unschedulable   map[string]*QueuedPodInfo
	schedulingCycle int64
	// moveRequestCycle is the cycle of the last unconditional move request;
	// checkedMoveCycle and checkedMovePreCheck those of the last move
	// request limited by a preCheck.
	moveRequestCycle    int64
	checkedMoveCycle    int64
	checkedMovePreCheck func(*QueuedPodInfo) bool
	closed              bool
}

// New returns an empty queue.
func New(clk clock.WithTicker, opts Options) *PriorityQueue {
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.MaxInUnschedulable <= 0 {
		opts.MaxInUnschedulable = 5 * time.Minute
	}
	q := &PriorityQueue{clock: clk, opts: opts, unschedulable: map[string]*QueuedPodInfo{}, moveRequestCycle: -1, checkedMoveCycle: -1}
	q.cond = sync.NewCond(&q.mu)
	q.activeQ = newKeyedHeap(activeLess)
	q.backoffQ = newKeyedHeap(func(a, b *QueuedPodInfo) bool { return q.backoffExpiry(a).Before(q.backoffExpiry(b)) })
	return q
}

// activeLess orders by priority, then queue time (PrioritySort).
func activeLess(a, b *QueuedPodInfo) bool {
	pa, pb := priority(a.Pod), priority(b.Pod)
	if pa != pb {
		return pa > pb
	}
	return a.Timestamp.Before(b.Timestamp)
}

func priority(pod *v1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// Key returns the queue's key of a pod: namespace/name.
func Key(pod *v1.Pod) string { return pod.Namespace + "/" + pod.Name }

// backoffDuration is initial × 2^(attempts−1), capped at MaxBackoff.
func (q *PriorityQueue) backoffDuration(p *QueuedPodInfo) time.Duration {
	d := q.opts.InitialBackoff
	for i := 1; i < p.Attempts; i++ {
		if d >= q.opts.MaxBackoff/2 {
			return q.opts.MaxBackoff
		}
		d *= 2
	}
	return min(d, q.opts.MaxBackoff)
}

func (q *PriorityQueue) backoffExpiry(p *QueuedPodInfo) time.Time {
	return p.Timestamp.Add(q.backoffDuration(p))
}

func (q *PriorityQueue) isBackingOff(p *QueuedPodInfo) bool {
	return p.Attempts > 0 && q.backoffExpiry(p).After(q.clock.Now())
}

// pushActive adds to activeQ and wakes a Pop. Callers hold mu.
func (q *PriorityQueue) pushActive(p *QueuedPodInfo) {
	q.activeQ.addOrUpdate(p)
	q.cond.Broadcast()
}

// Add queues a new pending pod in activeQ. A pod already queued is updated
// in place instead.
func (q *PriorityQueue) Add(pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := Key(pod)
	if q.updateQueuedLocked(k, pod) {
		return
	}
	q.pushActive(&QueuedPodInfo{Pod: pod, Timestamp: q.clock.Now(), key: k})
}

// updateQueuedLocked replaces the pod of a queued entry, moving an
// unschedulable pod whose spec or labels changed so it is tried again. It
// reports whether the pod was queued.
func (q *PriorityQueue) updateQueuedLocked(k string, pod *v1.Pod) bool {
	if p, ok := q.activeQ.get(k); ok {
		p.Pod = pod
		q.activeQ.addOrUpdate(p)
		return true
	}
	if p, ok := q.backoffQ.get(k); ok {
		p.Pod = pod
		q.backoffQ.addOrUpdate(p)
		return true
	}
	if p, ok := q.unschedulable[k]; ok {
		changed := podChanged(p.Pod, pod)
		p.Pod = pod
		if changed {
			delete(q.unschedulable, k)
			q.requeueLocked(p)
		}
		return true
	}
	return false
}

// Update replaces a pending pod; a pod not queued (for instance in flight)
// is added to activeQ, as upstream. The scheduler skips pods it has
// already assumed.
func (q *PriorityQueue) Update(_, newPod *v1.Pod) { q.Add(newPod) }

// Delete removes a pod from the queue.
func (q *PriorityQueue) Delete(pod *v1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := Key(pod)
	q.activeQ.remove(k)
	q.backoffQ.remove(k)
	delete(q.unschedulable, k)
}

// Pop blocks until activeQ has a pod and returns it, counting an attempt
// and starting a new scheduling cycle; ErrClosed once closed.
func (q *PriorityQueue) Pop() (*QueuedPodInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.activeQ.Len() == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, ErrClosed
	}
	p := q.activeQ.pop()
	p.Attempts++
	if p.InitialAttemptTimestamp == nil {
		now := q.clock.Now()
		p.InitialAttemptTimestamp = &now
	}
	q.schedulingCycle++
	return p, nil
}

// SchedulingCycle returns the current cycle number (incremented by Pop).
func (q *PriorityQueue) SchedulingCycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.schedulingCycle
}

// AddUnschedulableIfNotPresent returns a pod that failed in the cycle
// podSchedulingCycle. A pod that failed with an error, or during whose
// cycle a move request that would have moved it arrived (the cluster
// changed while it was being decided), goes to backoffQ; otherwise it waits in unschedulable. A pod
// already queued again (e.g. updated meanwhile) is left alone.
func (q *PriorityQueue) AddUnschedulableIfNotPresent(p *QueuedPodInfo, podSchedulingCycle int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := Key(p.Pod)
	p.key = k
	if _, ok := q.activeQ.get(k); ok {
		return
	}
	if _, ok := q.backoffQ.get(k); ok {
		return
	}
	if _, ok := q.unschedulable[k]; ok {
		return
	}
	p.Timestamp = q.clock.Now()
	if p.Error || q.moveRequestCycle >= podSchedulingCycle ||
		(q.checkedMoveCycle >= podSchedulingCycle && q.checkedMovePreCheck(p)) {
		q.backoffQ.addOrUpdate(p)
		return
	}
	q.unschedulable[k] = p
}

// requeueLocked moves a pod to backoffQ while it is backing off, else to
// activeQ. Callers hold mu.
func (q *PriorityQueue) requeueLocked(p *QueuedPodInfo) {
	if q.isBackingOff(p) {
		q.backoffQ.addOrUpdate(p)
		return
	}
	q.pushActive(p)
}

// MoveAllToActiveOrBackoffQueue moves the unschedulable pods for which
// preCheck (nil: all) says the change could help, and marks the current
// cycle so that pods failing in it are retried too.
func (q *PriorityQueue) MoveAllToActiveOrBackoffQueue(preCheck func(*QueuedPodInfo) bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for k, p := range q.unschedulable {
		if preCheck != nil && !preCheck(p) {
			continue
		}
		delete(q.unschedulable, k)
		q.requeueLocked(p)
	}
	if preCheck == nil {
		q.moveRequestCycle = q.schedulingCycle
	} else {
		q.checkedMoveCycle, q.checkedMovePreCheck = q.schedulingCycle, preCheck
	}
}
