package etcd3

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// TestIntegrationCompactor checks that a round compacts to the revision seen one
// round earlier, and that a second compactor on the same etcd skips the round
// the first one claimed.
func TestIntegrationCompactor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := storagetest.RunEtcd(t)
	clk := testingclock.NewFakeClock(time.Now())
	c1 := NewCompactor(client, time.Minute, clk, nil)
	c2 := NewCompactor(client, time.Minute, clk, nil)

	put := func() int64 {
		t.Helper()
		resp, err := client.Put(ctx, "k", "v")
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	compactedTo := func(rev int64) bool {
		_, err := client.Get(ctx, "k", clientv3.WithRev(rev))
		return errors.Is(err, rpctypes.ErrCompacted)
	}

	// Round 1 (c1 wins) records the revision; c2 loses and learns the time.
	t1, r1, err := c1.compact(ctx, 0, 0)
	if err != nil || t1 != 1 {
		t.Fatalf("first round: time %d err %v", t1, err)
	}
	if _, _, err := c2.compact(ctx, 0, 0); err != nil {
		t.Fatalf("losing round: %v", err)
	}
	afterR1 := put()
	put()
	// Round 2: c1 compacts to r1 only.
	if _, _, err := c1.compact(ctx, t1, r1); err != nil {
		t.Fatalf("second round: %v", err)
	}
	if !compactedTo(r1-1) || compactedTo(afterR1) {
		t.Errorf("after round 2 want revisions before %d compacted and %d kept", r1, afterR1)
	}

	// The Run loop: the first tick only learns the current round (c1's local
	// time is stale), the second compacts to what etcd was at on the first.
	go c1.Run(ctx)
	tick := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !clk.HasWaiters() {
			if time.Now().After(deadline) {
				t.Fatal("compactor is not waiting for its next round")
			}
			time.Sleep(time.Millisecond)
		}
		clk.Step(time.Minute)
	}
	before := put()
	tick()
	tick()
	after := put()
	deadline := time.Now().Add(10 * time.Second)
	// Compacting to rev keeps rev readable and discards what came before it.
	for !compactedTo(before - 1) {
		if time.Now().After(deadline) {
			t.Fatalf("revision %d not compacted after two rounds", before-1)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if compactedTo(after) {
		t.Errorf("revision %d, written after the first round, was compacted", after)
	}
}

func TestCompactorDisabled(t *testing.T) {
	done := make(chan struct{})
	go func() {
		NewCompactor(nil, 0, nil, nil).Run(context.Background())
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run with interval 0 did not return")
	}
}
