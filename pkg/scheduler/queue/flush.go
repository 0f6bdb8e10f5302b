package queue

import (
	"context"
	"time"
)

// Run moves pods whose backoff ended to activeQ (checked every 100ms, so a
// pod waits at most that long past its backoff; upstream checks every
// second) and pods left unschedulable for too long every 30 seconds, until
// ctx ends; then it closes the queue.
func (q *PriorityQueue) Run(ctx context.Context) {
	backoff := q.clock.NewTicker(100 * time.Millisecond)
	defer backoff.Stop()
	leftover := q.clock.NewTicker(30 * time.Second)
	defer leftover.Stop()
	defer q.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case <-backoff.C():
			q.flushBackoffQCompleted()
		case <-leftover.C():
			q.flushUnschedulableLeftover()
		}
	}
}

// flushBackoffQCompleted moves every pod whose backoff has ended to activeQ.
func (q *PriorityQueue) flushBackoffQCompleted() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for {
		p := q.backoffQ.peek()
		if p == nil || q.backoffExpiry(p).After(now) {
			return
		}
		q.backoffQ.pop()
		q.pushActive(p)
	}
}

// flushUnschedulableLeftover requeues pods unschedulable for longer than
// MaxInUnschedulable.
func (q *PriorityQueue) flushUnschedulableLeftover() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for k, p := range q.unschedulable {
		if now.Sub(p.Timestamp) > q.opts.MaxInUnschedulable {
			delete(q.unschedulable, k)
			q.requeueLocked(p)
		}
	}
}

// Close wakes every Pop with ErrClosed.
func (q *PriorityQueue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Pending returns how many pods wait in each set.
func (q *PriorityQueue) Pending() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.activeQ.Len(), q.backoffQ.Len(), len(q.unschedulable)
}
