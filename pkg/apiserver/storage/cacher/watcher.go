package cacher

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// cacheWatcher is one client's watch on a Cacher.
type cacheWatcher struct {
	cacher    *Cacher
	key       string
	recursive bool
	pred      storage.SelectionPredicate
	bookmarks bool

	// id and lastRV are guarded by cacher.mu. lastRV is the revision up to which
	// the watcher has been given (or has skipped) every event.
	id     uint64
	lastRV int64

	input    chan watch.Event // fed by the cacher, closed by Cacher.removeLocked
	result   chan watch.Event // closed by run
	stopped  chan struct{}    // closed by Stop
	stopOnce sync.Once
}

var _ watch.Interface = (*cacheWatcher)(nil)

func newCacheWatcher(c *Cacher, key string, opts storage.ListOptions, bufferSize int) *cacheWatcher {
	return &cacheWatcher{
		cacher:    c,
		key:       key,
		recursive: opts.Recursive,
		pred:      opts.Predicate,
		bookmarks: opts.AllowWatchBookmarks,
		input:     make(chan watch.Event, bufferSize),
		result:    make(chan watch.Event),
		stopped:   make(chan struct{}),
	}
}

// ResultChan implements watch.Interface.
func (w *cacheWatcher) ResultChan() <-chan watch.Event { return w.result }

// Stop implements watch.Interface. The result channel closes soon after.
func (w *cacheWatcher) Stop() {
	w.stopOnce.Do(func() { close(w.stopped) })
}

// run delivers the initial events, then the live ones, until the watcher is
// stopped, its context ends, or the cacher terminates it.
func (w *cacheWatcher) run(ctx context.Context, initial []watch.Event) {
	defer close(w.result)
	defer w.cacher.remove(w)
	for _, ev := range initial {
		if !w.send(ctx, ev) {
			return
		}
	}
	for {
		select {
		case ev, ok := <-w.input:
			if !ok || !w.send(ctx, ev) {
				return
			}
		case <-w.stopped:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (w *cacheWatcher) send(ctx context.Context, ev watch.Event) bool {
	select {
	case w.result <- ev:
		return true
	case <-w.stopped:
		return false
	case <-ctx.Done():
		return false
	}
}

// selects tells whether el is in this watch: under its key and selected by its
// predicate.
func (w *cacheWatcher) selects(el *element) bool {
	if el == nil || !keyMatches(el.key, w.key, w.recursive) {
		return false
	}
	if w.pred.Empty() {
		return true
	}
	if el.hasAttrs {
		return w.pred.MatchesObjectAttributes(el.labels, el.fields)
	}
	ok, err := w.pred.Matches(el.obj)
	return err == nil && ok
}

// convert turns a change into what this watcher's client sees, if anything. It
// is called with cacher.mu held.
func (w *cacheWatcher) convert(e *event) (watch.Event, bool) {
	if e.typ == watch.Deleted {
		if w.selects(e.cur) {
			return watch.Event{Type: watch.Deleted, Object: e.cur.obj}, true
		}
		return watch.Event{}, false
	}
	cur, prev := w.selects(e.cur), w.selects(e.prev)
	switch {
	case cur && prev:
		return watch.Event{Type: watch.Modified, Object: e.cur.obj}, true
	case cur:
		return watch.Event{Type: watch.Added, Object: e.cur.obj}, true
	case prev:
		// Left the selection: its last selected state, at this revision.
		if e.prevAtRV == nil {
			obj := e.prev.obj.DeepCopyObject()
			if err := w.cacher.cfg.Versioner.UpdateObject(obj, uint64(e.rv)); err != nil {
				return watch.Event{}, false
			}
			e.prevAtRV = obj
		}
		return watch.Event{Type: watch.Deleted, Object: e.prevAtRV}, true
	default:
		return watch.Event{}, false
	}
}

// errWatcher is a watch whose only event is an ERROR.
type errWatcher struct {
	result chan watch.Event
}

func newErrWatcher(err error) watch.Interface {
	w := &errWatcher{result: make(chan watch.Event, 1)}
	w.result <- watch.Event{Type: watch.Error, Object: storage.WatchErrorStatus(err)}
	close(w.result)
	return w
}

func (w *errWatcher) ResultChan() <-chan watch.Event { return w.result }
func (w *errWatcher) Stop()                          {}
