package delegated

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// maxCacheEntries bounds a cache: past it, expired entries are dropped
// and, if that is not enough, everything is (the next requests ask the
// apiserver again).
const maxCacheEntries = 4096

// ttlCache remembers values until their own expiry. Safe for concurrent use.
type ttlCache[V any] struct {
	clock   clock.PassiveClock
	mu      sync.Mutex
	entries map[string]cacheEntry[V]
}

type cacheEntry[V any] struct {
	value   V
	expires time.Time
}

func newTTLCache[V any](c clock.PassiveClock) *ttlCache[V] {
	if c == nil {
		c = clock.RealClock{}
	}
	return &ttlCache[V]{clock: c, entries: map[string]cacheEntry[V]{}}
}

// get returns key's value if it has not expired.
func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !c.clock.Now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// set keeps value for ttl; a ttl <= 0 keeps nothing.
func (c *ttlCache[V]) set(key string, value V, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if len(c.entries) >= maxCacheEntries {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			clear(c.entries)
		}
	}
	c.entries[key] = cacheEntry[V]{value: value, expires: now.Add(ttl)}
}
