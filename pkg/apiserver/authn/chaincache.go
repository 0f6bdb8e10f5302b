package authn

import (
	"crypto/sha256"
	"crypto/x509"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// maxVerifiedChains bounds a ChainCache; when full it starts over.
const maxVerifiedChains = 4096

// ChainCache remembers client certificate chains that verified, by the hash
// of their certificates, until the first of them expires: the apiserver
// requests client certificates without verifying them in the TLS handshake
// (so a certificate of another CA is a 401, as upstream, not a failed
// handshake), and a client's repeated requests then cost a hash instead of
// a signature check. Chains that failed are not remembered. Safe for
// concurrent use; the zero value is not usable, use NewChainCache.
type ChainCache struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	until map[[sha256.Size]byte]time.Time
}

// NewChainCache returns an empty cache reading time from clk.
func NewChainCache(clk clock.PassiveClock) *ChainCache {
	return &ChainCache{clock: clk, until: map[[sha256.Size]byte]time.Time{}}
}

func chainKey(certs []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	for _, c := range certs {
		h.Write(c.Raw)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// verified reports whether certs verified before and are all still valid.
func (c *ChainCache) verified(key [sha256.Size]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.until[key]
	if ok && !c.clock.Now().Before(until) {
		delete(c.until, key)
		return false
	}
	return ok
}

// remember records that certs verified.
func (c *ChainCache) remember(key [sha256.Size]byte, certs []*x509.Certificate) {
	until := certs[0].NotAfter
	for _, cert := range certs[1:] {
		if cert.NotAfter.Before(until) {
			until = cert.NotAfter
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.until) >= maxVerifiedChains {
		clear(c.until)
	}
	c.until[key] = until
}
