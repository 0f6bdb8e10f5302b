package replicaset

import (
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// ExpectationsTimeout is how long a ReplicaSet waits for the pod events it
// expects before syncing anyway (upstream's controller.ExpectationsTimeout):
// a watch event that never comes (a lost create) cannot stall it forever.
const ExpectationsTimeout = 5 * time.Minute

// Expectations remember, per ReplicaSet key, the pod creations and
// deletions a sync made and the informer has not shown yet (upstream's
// UIDTrackingControllerExpectations). While any are outstanding the
// ReplicaSet does not create or delete pods again, so a cache that lags
// behind the API never makes it create duplicates or delete twice.
// Creations are counted; deletions are tracked by pod key
// ("namespace/name") so that each is observed once, whether the informer
// shows the deletion timestamp or the delete. Safe for concurrent use.
type Expectations struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	m     map[string]*expectation
}

type expectation struct {
	adds      int
	dels      sets.Set[string]
	timestamp time.Time
}

// NewExpectations returns empty expectations timed on clk.
func NewExpectations(clk clock.PassiveClock) *Expectations {
	return &Expectations{clock: clk, m: map[string]*expectation{}}
}

// Satisfied reports whether key may create or delete pods: it expects
// nothing, or everything it expected was observed, or its expectations
// are older than ExpectationsTimeout.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.m[key]
	if !ok {
		return true
	}
	if exp.adds <= 0 && exp.dels.Len() == 0 {
		return true
	}
	return e.clock.Since(exp.timestamp) > ExpectationsTimeout
}

// ExpectCreations records that key is about to create n pods, replacing
// what it expected before.
func (e *Expectations) ExpectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{adds: n, dels: sets.New[string](), timestamp: e.clock.Now()}
}

// ExpectDeletions records that key is about to delete the pods podKeys,
// replacing what it expected before.
func (e *Expectations) ExpectDeletions(key string, podKeys []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{dels: sets.New(podKeys...), timestamp: e.clock.Now()}
}

// CreationObserved lowers key's expected creations by one (a created pod
// was seen, or a create was not attempted after all).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.m[key]; ok && exp.adds > 0 {
		exp.adds--
	}
}

// DeletionObserved marks podKey's deletion as seen for key, once.
func (e *Expectations) DeletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.m[key]; ok {
		exp.dels.Delete(podKey)
	}
}

// Delete forgets key's expectations (its ReplicaSet is gone).
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// pending returns the creations and deletions key still expects.
func (e *Expectations) pending(key string) (adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if exp, ok := e.m[key]; ok {
		return exp.adds, exp.dels.Len()
	}
	return 0, 0
}
