package etcd3

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/utils/clock"
)

// compactRevKey is the etcd key through which the apiservers of a cluster agree on
// who compacts: its value is the revision last compacted to, and its version is
// the logical "compaction time". It is the key kube-apiserver uses, outside any
// prefix, so kinc and kube-apiservers sharing an etcd do not double compact.
const compactRevKey = "compact_rev_key"

// DefaultCompactionInterval is kube-apiserver's --etcd-compaction-interval.
const DefaultCompactionInterval = 5 * time.Minute

// Compactor periodically compacts etcd's history to the revision etcd was at one
// interval earlier, so that revisions stay readable (for watches and continue
// tokens) for at least one interval.
//
// Several apiservers may run a Compactor against the same etcd: each round is a
// compare-and-swap on compactRevKey's version, so only the first of them to wake up
// in a round compacts, and if it dies another takes over within two intervals.
type Compactor struct {
	client   *clientv3.Client
	interval time.Duration
	clock    clock.Clock
	logger   *slog.Logger
}

// NewCompactor returns a Compactor; interval <= 0 disables compaction. A nil clock
// is the real clock and a nil logger discards.
func NewCompactor(client *clientv3.Client, interval time.Duration, clk clock.Clock, logger *slog.Logger) *Compactor {
	if clk == nil {
		clk = clock.RealClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Compactor{client: client, interval: interval, clock: clk, logger: logger}
}

// Run compacts once every interval until ctx is done. It returns at once when
// compaction is disabled. Failures are logged and retried next interval.
func (c *Compactor) Run(ctx context.Context) {
	if c.interval <= 0 {
		return
	}
	// compactTime is the version of compactRevKey this compactor last saw; rev is
	// the revision etcd was at then, which becomes the next compaction target.
	var compactTime, rev int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(c.interval):
		}
		var err error
		compactTime, rev, err = c.compact(ctx, compactTime, rev)
		if err != nil && ctx.Err() == nil {
			c.logger.Warn("etcd compaction failed", "error", err)
		}
	}
}

// compact runs one round: if compactRevKey is still at version t, it claims the
// round (bumping the version) and compacts to rev. It returns the compaction time
// and the current revision to use in the next round. Losing the race is not an
// error: the winner compacted.
func (c *Compactor) compact(ctx context.Context, t, rev int64) (int64, int64, error) {
	resp, err := c.client.Txn(ctx).
		If(clientv3.Compare(clientv3.Version(compactRevKey), "=", t)).
		Then(clientv3.OpPut(compactRevKey, strconv.FormatInt(rev, 10))).
		Else(clientv3.OpGet(compactRevKey)).
		Commit()
	if err != nil {
		return t, rev, fmt.Errorf("claim compaction round: %w", err)
	}
	curRev := resp.Header.Revision
	if !resp.Succeeded {
		kvs := resp.Responses[0].GetResponseRange().GetKvs()
		if len(kvs) == 0 {
			return 0, curRev, nil // the key was deleted: start over
		}
		return kvs[0].Version, curRev, nil
	}
	if rev == 0 {
		return t + 1, curRev, nil // the first round only records where etcd is
	}
	if _, err := c.client.Compact(ctx, rev); err != nil {
		return t + 1, curRev, fmt.Errorf("compact to revision %d: %w", rev, err)
	}
	c.logger.Debug("compacted etcd", "revision", rev)
	return t + 1, curRev, nil
}
