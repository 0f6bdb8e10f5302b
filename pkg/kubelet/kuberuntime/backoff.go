package kuberuntime

import (
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Backoff is upstream's per-key exponential back-off (flowcontrol.Backoff):
// the first failure is retried at once, then after Initial, doubling up to
// Max; an entry untouched for 2×Max starts over.
type Backoff struct {
	Clock   clock.Clock
	Initial time.Duration
	Max     time.Duration

	mu      sync.Mutex // guards entries
	entries map[string]*backoffEntry
}

type backoffEntry struct {
	delay      time.Duration
	lastUpdate time.Time
}

// NewBackoff returns a Backoff with upstream's container restart values
// (10 s doubling to 5 min).
func NewBackoff(c clock.Clock) *Backoff {
	return &Backoff{Clock: c, Initial: 10 * time.Second, Max: 5 * time.Minute, entries: map[string]*backoffEntry{}}
}

// InBackoffSince reports whether key is still backing off for an event
// (e.g. a container's exit) at since, and the current delay.
func (b *Backoff) InBackoffSince(key string, since time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(e, since) {
		return false, 0
	}
	return b.Clock.Since(since) < e.delay, e.delay
}

// Next records a retry of key for an event at since and grows its delay.
func (b *Backoff) Next(key string, since time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(e, since) {
		b.entries[key] = &backoffEntry{delay: b.Initial, lastUpdate: b.Clock.Now()}
		return
	}
	e.delay *= 2
	if e.delay > b.Max {
		e.delay = b.Max
	}
	e.lastUpdate = b.Clock.Now()
}

// Delay returns key's current delay (0 when it has none).
func (b *Backoff) Delay(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.entries[key]; ok {
		return e.delay
	}
	return 0
}

// Forget drops every key with the prefix (a pod's keys when it goes away).
func (b *Backoff) Forget(prefix string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k := range b.entries {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			delete(b.entries, k)
		}
	}
}

func (b *Backoff) expired(e *backoffEntry, since time.Time) bool {
	return since.Sub(e.lastUpdate) > 2*b.Max
}

// InBackoffSinceUpdate reports whether key's last Next was less than its
// delay ago (image pull back-off).
func (b *Backoff) InBackoffSinceUpdate(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[key]
	if !ok || b.expired(e, b.Clock.Now()) {
		return false
	}
	return b.Clock.Since(e.lastUpdate) < e.delay
}

// Reset forgets key.
func (b *Backoff) Reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.entries, key)
}
