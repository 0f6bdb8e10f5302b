// Package podworkers runs one goroutine per pod that applies the latest
// desired state of the pod, coalescing updates that arrive while a sync is
// in progress (the early upstream pod_workers.go shape).
package podworkers

import (
	"context"
	"log/slog"
	"sync"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// UpdateType says what the worker should do with the pod.
type UpdateType int

const (
	// SyncPod makes the pod run as its spec says.
	SyncPod UpdateType = iota
	// KillPod stops every container of the pod and removes its sandbox.
	KillPod
)

// Update is one request to a pod worker.
type Update struct {
	Pod  *v1.Pod
	Type UpdateType
	// GracePeriod overrides the pod's grace period for KillPod (seconds).
	GracePeriod *int64
}

// SyncFunc applies an update. It is called from the pod's worker goroutine
// only, never concurrently for the same pod.
type SyncFunc func(ctx context.Context, u Update) error

// PodWorkers is an abstract interface for testability.
type PodWorkers interface {
	// UpdatePod queues u for the pod's worker, starting the worker if
	// needed. Updates that arrive while a sync runs are coalesced: only the
	// latest is applied next — except that a KillPod is never replaced by a
	// SyncPod. Non-blocking.
	UpdatePod(u Update)
	// ForgetNonExistingPodWorkers stops the workers of pods not in desired
	// once they are idle.
	ForgetNonExistingPodWorkers(desired map[types.UID]bool)
	// IsWorking reports whether uid has a worker.
	IsWorking(uid types.UID) bool
}

type podWorkers struct {
	ctx    context.Context
	sync   SyncFunc
	logger *slog.Logger

	mu sync.Mutex // guards the maps below
	// updates has a channel per pod worker (buffer 1).
	updates map[types.UID]chan Update
	// busy marks pods whose worker is running a sync.
	busy map[types.UID]bool
	// pending holds the latest update that arrived while the worker was busy.
	pending map[types.UID]Update
	wg      sync.WaitGroup
}

// New returns pod workers that call sync until ctx ends. Wait for the
// workers to finish with the returned wait function.
func New(ctx context.Context, sync SyncFunc, logger *slog.Logger) (PodWorkers, func()) {
	p := &podWorkers{ctx: ctx, sync: sync, logger: logger, updates: map[types.UID]chan Update{},
		busy: map[types.UID]bool{}, pending: map[types.UID]Update{}}
	return p, p.wg.Wait
}

func (p *podWorkers) UpdatePod(u Update) {
	uid := u.Pod.UID
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.updates[uid]
	if !ok {
		ch = make(chan Update, 1)
		p.updates[uid] = ch
		p.wg.Add(1)
		go p.managePodLoop(uid, ch)
	}
	if !p.busy[uid] {
		p.busy[uid] = true
		ch <- u
		return
	}
	if prev, ok := p.pending[uid]; ok && prev.Type == KillPod && u.Type == SyncPod {
		return
	}
	p.pending[uid] = u
}

func (p *podWorkers) managePodLoop(uid types.UID, ch chan Update) {
	defer p.wg.Done()
	for {
		select {
		case <-p.ctx.Done():
			return
		case u, ok := <-ch:
			if !ok {
				return
			}
			if err := p.sync(p.ctx, u); err != nil && p.ctx.Err() == nil {
				p.logger.Error("pod sync failed", "pod", podRef(u.Pod), "uid", uid, "err", err)
			}
			p.wrapUp(uid, ch)
		}
	}
}

// wrapUp hands the pending update (if any) to the worker, or marks it idle.
func (p *podWorkers) wrapUp(uid types.UID, ch chan Update) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u, ok := p.pending[uid]; ok {
		delete(p.pending, uid)
		ch <- u
		return
	}
	p.busy[uid] = false
}

func (p *podWorkers) ForgetNonExistingPodWorkers(desired map[types.UID]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for uid, ch := range p.updates {
		if desired[uid] || p.busy[uid] {
			continue
		}
		close(ch)
		delete(p.updates, uid)
		delete(p.busy, uid)
		delete(p.pending, uid)
	}
}

func (p *podWorkers) IsWorking(uid types.UID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.updates[uid]
	return ok
}

func podRef(pod *v1.Pod) string { return pod.Namespace + "/" + pod.Name }
