package certificate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// RotationTimeout is how long one rotation waits for its certificate
// (upstream's 15 minutes).
const RotationTimeout = 15 * time.Minute

// Backoff between failed rotations: upstream's 2 s doubling, then every
// 32 s.
const (
	backoffStart = 2 * time.Second
	backoffMax   = 32 * time.Second
)

// ErrExpired is returned by Run when the current certificate expired
// without a new one: the kubelet exits so that its restart bootstraps
// again, as upstream's.
var ErrExpired = errors.New("the client certificate expired and could not be renewed")

// ManagerConfig configure a Manager.
type ManagerConfig struct {
	NodeName string
	// Store holds the certificate; its current pair is the initial one.
	Store *Store
	// Client requests new certificates; it authenticates with the
	// Manager's current certificate (Transport), so renewals are made as
	// system:node:<name> and approved as selfnodeclient.
	Client kubernetes.Interface
	// Clock drives the deadlines; nil means the real clock.
	Clock clock.Clock
	// Rand returns a number in [0, 1) for the deadline's jitter; nil means
	// math/rand/v2.
	Rand func() float64
	// OnRotate is called after each new certificate is in place (Transport's
	// close-connections function). Optional.
	OnRotate func()
	Logger   *slog.Logger
}

// Manager holds the kubelet's client certificate and renews it. Current is
// safe for concurrent use; Run is called once.
type Manager struct {
	cfg  ManagerConfig
	cert atomic.Pointer[tls.Certificate]
	mu   sync.Mutex // serializes rotations
}

// NewManager loads the store's current pair; without one it fails.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pair, err := cfg.Store.Current()
	if err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg}
	m.cert.Store(pair)
	return m, nil
}

// Current is the certificate to present, or nil once it has expired (as
// upstream's: the server would refuse it anyway).
func (m *Manager) Current() *tls.Certificate {
	pair := m.cert.Load()
	if pair == nil || m.cfg.Clock.Now().After(pair.Leaf.NotAfter) {
		return nil
	}
	return pair
}

// NextDeadline is when the current certificate should be renewed:
// NotBefore plus 70–90% of its life (upstream's jitter), or now when its
// subject is not the node's.
func (m *Manager) NextDeadline() time.Time {
	leaf := m.cert.Load().Leaf
	want := Subject(m.cfg.NodeName)
	if leaf.Subject.CommonName != want.CommonName || !slices.Equal(leaf.Subject.Organization, want.Organization) {
		return m.cfg.Clock.Now()
	}
	total := leaf.NotAfter.Sub(leaf.NotBefore)
	return leaf.NotBefore.Add(time.Duration(float64(total) * (0.7 + 0.2*m.cfg.Rand())))
}

// Run renews the certificate at each deadline until ctx ends, retrying a
// failed renewal with backoff. It returns nil when ctx ends, ErrExpired
// when the certificate expired while renewals kept failing.
func (m *Manager) Run(ctx context.Context) error {
	c := m.cfg.Clock
	for {
		deadline := m.NextDeadline()
		m.cfg.Logger.Info("client certificate rotation deadline", "deadline", deadline, "expiration", m.cert.Load().Leaf.NotAfter)
		if d := deadline.Sub(c.Now()); d > 0 {
			t := c.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C():
			}
		}
		backoff := backoffStart
		for {
			err := m.Rotate(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			if c.Now().After(m.cert.Load().Leaf.NotAfter) {
				return fmt.Errorf("%w: %w", ErrExpired, err)
			}
			m.cfg.Logger.Error("client certificate rotation failed", "err", err, "retryIn", backoff)
			select {
			case <-ctx.Done():
				return nil
			case <-c.After(backoff):
			}
			backoff = min(2*backoff, backoffMax)
		}
	}
}

// Rotate requests a new certificate with a new ECDSA P-256 key, stores it
// and makes it current, then calls OnRotate.
func (m *Manager) Rotate(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key, keyPEM, err := newKey()
	if err != nil {
		return err
	}
	certPEM, err := requester{client: m.cfg.Client, clock: m.cfg.Clock}.request(ctx, key, m.cfg.NodeName, "", RotationTimeout)
	if err != nil {
		return err
	}
	pair, err := m.cfg.Store.Update(certPEM, keyPEM)
	if err != nil {
		return err
	}
	m.cert.Store(pair)
	m.cfg.Logger.Info("client certificate rotated", "expiration", pair.Leaf.NotAfter)
	if m.cfg.OnRotate != nil {
		m.cfg.OnRotate()
	}
	return nil
}
