package daemonset

import (
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// expectations count, per DaemonSet key, the pod creations and deletions
// a sync made that the informer has not shown yet (upstream's
// ControllerExpectations, counts only: a daemon sync creates and deletes
// in one go). Safe for concurrent use.
type expectations struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	m     map[string]*expectation
}

type expectation struct {
	adds, dels int
	timestamp  time.Time
}

func newExpectations(clk clock.PassiveClock) *expectations {
	return &expectations{clock: clk, m: map[string]*expectation{}}
}

// satisfied: nothing outstanding, or outstanding for longer than
// replicaset.ExpectationsTimeout (a lost event must not stall the set).
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.m[key]
	if !ok || (exp.adds <= 0 && exp.dels <= 0) {
		return true
	}
	return e.clock.Since(exp.timestamp) > replicaset.ExpectationsTimeout
}

// set replaces key's expectations.
func (e *expectations) set(key string, adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{adds: adds, dels: dels, timestamp: e.clock.Now()}
}

func (e *expectations) lower(key string, adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.m[key]; ok {
		exp.adds -= adds
		exp.dels -= dels
	}
}

func (e *expectations) creationObserved(key string) { e.lower(key, 1, 0) }
func (e *expectations) deletionObserved(key string) { e.lower(key, 0, 1) }

func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
