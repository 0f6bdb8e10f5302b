package controller

import (
	"context"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"
)

// Stats is a snapshot of a Loop's counters, for /metrics (upstream's
// workqueue_depth, workqueue_adds_total, workqueue_retries_total…).
// Counters only grow.
type Stats struct {
	// Depth is the number of keys ready and waiting for a worker (keys
	// waiting out a delay or a backoff are not counted).
	Depth int
	// Adds counts enqueued keys, including those already waiting (the
	// queue keeps one of each).
	Adds uint64
	// Syncs counts calls of Sync; Errors those that failed (or panicked).
	Syncs, Errors uint64
	// Retries counts keys requeued with backoff after an error; Drops the
	// keys given up after MaxRetries.
	Retries, Drops uint64
	// SyncTime is the total time spent in Sync, on the loop's clock.
	SyncTime time.Duration
}

// counters are the Loop's live Stats.
type counters struct {
	adds, syncs, errors, retries, drops atomic.Uint64
	syncNanos                           atomic.Int64
}

func (c *counters) synced(d time.Duration, err error) {
	c.syncs.Add(1)
	c.syncNanos.Add(int64(d))
	if err != nil {
		c.errors.Add(1)
	}
}

// Stats returns a snapshot of the loop's counters.
func (l *Loop) Stats() Stats {
	return Stats{
		Depth:    l.queue.Len(),
		Adds:     l.stats.adds.Load(),
		Syncs:    l.stats.syncs.Load(),
		Errors:   l.stats.errors.Load(),
		Retries:  l.stats.retries.Load(),
		Drops:    l.stats.drops.Load(),
		SyncTime: time.Duration(l.stats.syncNanos.Load()),
	}
}

// Every returns a background loop (for Config.Background) that calls fn at
// once and then every period on clk until ctx ends, as wait.Until does
// with an injectable clock. A period <= 0 calls fn once.
func Every(clk clock.WithTicker, period time.Duration, fn func(ctx context.Context)) func(ctx context.Context) {
	return func(ctx context.Context) {
		if ctx.Err() != nil {
			return
		}
		if period <= 0 {
			fn(ctx)
			return
		}
		t := clk.NewTicker(period)
		defer t.Stop()
		fn(ctx)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C():
				fn(ctx)
			}
		}
	}
}
