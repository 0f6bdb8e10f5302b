package etcd3

import (
	"context"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/utils/clock"
)

// leaseReuseWindow is how much longer than asked a key with a TTL may live, in
// exchange for sharing one etcd lease among the keys created within that window
// (kube-apiserver does the same: one lease per Event would flood etcd).
const leaseReuseWindow = time.Minute

// leaseManager hands out etcd leases for keys with a TTL, reusing one lease for
// all requests it can serve: a key asking for ttl gets a lease that expires
// between ttl and ttl+leaseReuseWindow from now.
type leaseManager struct {
	client *clientv3.Client
	clock  clock.PassiveClock

	// mu guards prevID and prevExpiry, and serialises grants.
	mu         sync.Mutex
	prevID     clientv3.LeaseID
	prevExpiry time.Time
}

func newLeaseManager(client *clientv3.Client, clk clock.PassiveClock) *leaseManager {
	return &leaseManager{client: client, clock: clk}
}

// lease returns a lease that lasts at least ttl seconds.
func (l *leaseManager) lease(ctx context.Context, ttl int64) (clientv3.LeaseID, error) {
	now := l.clock.Now()
	want := now.Add(time.Duration(ttl) * time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.prevID != 0 && !l.prevExpiry.Before(want) && l.prevExpiry.Before(want.Add(leaseReuseWindow)) {
		return l.prevID, nil
	}
	grantTTL := ttl + int64(leaseReuseWindow/time.Second)
	resp, err := l.client.Grant(ctx, grantTTL)
	if err != nil {
		return 0, fmt.Errorf("grant lease of %ds: %w", grantTTL, err)
	}
	l.prevID = resp.ID
	l.prevExpiry = now.Add(time.Duration(grantTTL) * time.Second)
	return resp.ID, nil
}
