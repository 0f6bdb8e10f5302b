package job

import (
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/clock"
)

// expectationsTimeout is how long unobserved creations and deletions hold
// a Job's pod management back (upstream's ExpectationsTimeout).
const expectationsTimeout = 5 * time.Minute

// expectations count, per Job key, the pod creations and deletions made
// and not yet seen by the pod informer (upstream's
// ControllerExpectations): while some are outstanding, the cache lags and
// the Job's pods are not managed, so that none is created twice. Safe for
// concurrent use.
type expectations struct {
	clock clock.PassiveClock
	mu    sync.Mutex
	m     map[string]*expected
}

type expected struct {
	adds, dels int
	at         time.Time
}

func newExpectations(clk clock.PassiveClock) *expectations {
	return &expectations{clock: clk, m: map[string]*expected{}}
}

// satisfied: nothing outstanding, or the expectations expired.
func (e *expectations) satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	return !ok || (x.adds <= 0 && x.dels <= 0) || e.clock.Since(x.at) > expectationsTimeout
}

// expect replaces key's expectations.
func (e *expectations) expect(key string, adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expected{adds: adds, dels: dels, at: e.clock.Now()}
}

// observed lowers key's outstanding creations and deletions.
func (e *expectations) observed(key string, adds, dels int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		x.adds -= adds
		x.dels -= dels
	}
}

func (e *expectations) forget(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// finalizerExpectations are, per Job key, the UIDs of pods whose tracking
// finalizer was removed and whose update the informer has not shown yet:
// they are not counted again meanwhile. Safe for concurrent use.
type finalizerExpectations struct {
	mu sync.Mutex
	m  map[string]sets.Set[types.UID]
}

func newFinalizerExpectations() *finalizerExpectations {
	return &finalizerExpectations{m: map[string]sets.Set[types.UID]{}}
}

func (f *finalizerExpectations) expected(key string) sets.Set[types.UID] {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[key].Clone()
}

func (f *finalizerExpectations) expect(key string, uids ...types.UID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m[key] == nil {
		f.m[key] = sets.New[types.UID]()
	}
	f.m[key].Insert(uids...)
}

func (f *finalizerExpectations) observed(key string, uid types.UID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.m[key]; s != nil {
		s.Delete(uid)
	}
}

func (f *finalizerExpectations) forget(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
}

// Pod failure backoff, as upstream 1.37: 10 s after the first failure
// since the last success, doubling, at most 10 minutes.
const (
	defaultBackoff = 10 * time.Second
	maxBackoff     = 10 * time.Minute
)

// backoffRecord is a Job's failures since its last success.
type backoffRecord struct {
	failuresAfterLastSuccess int
	lastFailureTime          time.Time
}

// backoffs hold each Job's backoffRecord (upstream's backoffStore). Safe
// for concurrent use.
type backoffs struct {
	mu sync.Mutex
	m  map[string]backoffRecord
}

func newBackoffs() *backoffs { return &backoffs{m: map[string]backoffRecord{}} }

func (b *backoffs) get(key string) backoffRecord {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[key]
}

func (b *backoffs) set(key string, r backoffRecord) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[key] = r
}

func (b *backoffs) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
}

// next returns the record after newly finished pods: successes reset the
// count, and only failures that finished after the last success count.
func (r backoffRecord) next(succeeded, failed []*corev1.Pod) backoffRecord {
	byFinish := func(a, b *corev1.Pod) int { return finishedTime(a).Compare(finishedTime(b)) }
	slices.SortFunc(succeeded, byFinish)
	slices.SortFunc(failed, byFinish)
	if len(failed) == 0 && len(succeeded) == 0 {
		return r
	}
	if len(succeeded) == 0 {
		return backoffRecord{failuresAfterLastSuccess: r.failuresAfterLastSuccess + len(failed),
			lastFailureTime: finishedTime(failed[len(failed)-1])}
	}
	out := backoffRecord{}
	lastSuccess := finishedTime(succeeded[len(succeeded)-1])
	for i := len(failed) - 1; i >= 0; i-- {
		t := finishedTime(failed[i])
		if !t.After(lastSuccess) {
			break
		}
		if out.failuresAfterLastSuccess == 0 {
			out.lastFailureTime = t
		}
		out.failuresAfterLastSuccess++
	}
	return out
}

// remaining is how long pod creation waits: defaultBackoff doubled for
// each failure after the first, capped at maxBackoff, counted from the
// last failure.
func (r backoffRecord) remaining(clk clock.PassiveClock) time.Duration {
	if r.failuresAfterLastSuccess == 0 {
		return 0
	}
	d := defaultBackoff
	for i := 1; i < r.failuresAfterLastSuccess; i++ {
		d *= 2
		if d >= maxBackoff {
			d = maxBackoff
			break
		}
	}
	elapsed := clk.Since(r.lastFailureTime)
	if d < elapsed {
		return 0
	}
	return d - elapsed
}

// finishedTime is when a pod finished, as upstream guesses it: its
// containers' latest finishedAt (when all terminated), else when Ready
// became False, else its deletion time minus the grace period, else its
// creation.
func finishedTime(p *corev1.Pod) time.Time {
	var latest time.Time
	all := len(p.Status.ContainerStatuses) > 0
	for _, s := range p.Status.ContainerStatuses {
		if s.State.Terminated == nil || s.State.Terminated.FinishedAt.IsZero() {
			all = false
			break
		}
		if t := s.State.Terminated.FinishedAt.Time; t.After(latest) {
			latest = t
		}
	}
	if all {
		return latest
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	if p.DeletionTimestamp != nil {
		grace := time.Duration(0)
		if p.DeletionGracePeriodSeconds != nil {
			grace = time.Duration(*p.DeletionGracePeriodSeconds) * time.Second
		}
		return p.DeletionTimestamp.Add(-grace)
	}
	return p.CreationTimestamp.Time
}
