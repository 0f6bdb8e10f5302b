package memory

import (
	"context"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// resultBufferSize is how many converted events a watch buffers for a slow
// reader, as etcd3's.
const resultBufferSize = 100

// Watch implements storage.Interface. Each watch runs one goroutine, which
// ends when ctx is done or Stop is called.
func (s *Store) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	if opts.SendInitialEvents != nil {
		return nil, storage.NewBadRequestError(key, "sendInitialEvents is not supported")
	}
	k, err := prepareKey(key)
	if err != nil {
		return nil, err
	}
	if opts.Recursive && !strings.HasSuffix(k, "/") {
		k += "/"
	}
	rev, err := parseRV(key, opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{
		store:     s,
		key:       key,
		k:         k,
		recursive: opts.Recursive,
		pred:      opts.Predicate,
		bookmarks: opts.AllowWatchBookmarks || opts.ProgressNotify,
		cancel:    cancel,
		result:    make(chan watch.Event, resultBufferSize),
	}
	// The initial state and the revision the watch goes on from are read
	// together, so that no write falls between them.
	var initial []kv
	s.mu.Lock()
	s.expireLocked()
	if rev == 0 {
		rev = s.rev
		initial = s.snapshotLocked(k, opts.Recursive)
	}
	w.progressSeen = s.progress
	s.mu.Unlock()
	w.wg.Add(1)
	go w.run(ctx, rev, initial)
	return w, nil
}

// snapshotLocked returns the current state of the watched keys.
func (s *Store) snapshotLocked(k string, recursive bool) []kv {
	if !recursive {
		if v, ok := s.latest(k); ok {
			return []kv{{key: k, version: v}}
		}
		return nil
	}
	var out []kv
	for _, key := range s.keyRange(k, "") {
		if v, ok := s.latest(key); ok {
			out = append(out, kv{key: key, version: v})
		}
	}
	return out
}

// watcher is one watch.Interface.
type watcher struct {
	store     *Store
	key       string // as the client gave it, for errors
	k         string // the watched key, or prefix ending in "/"
	recursive bool
	pred      storage.SelectionPredicate
	bookmarks bool
	cancel    context.CancelFunc
	result    chan watch.Event
	wg        sync.WaitGroup
	// progressSeen is the Store.progress this watcher has answered.
	progressSeen uint64
}

// Stop implements watch.Interface. It returns once the result channel is closed.
func (w *watcher) Stop() {
	w.cancel()
	w.wg.Wait()
}

// ResultChan implements watch.Interface.
func (w *watcher) ResultChan() <-chan watch.Event { return w.result }

// run sends the initial state, then the events after rev as they happen.
func (w *watcher) run(ctx context.Context, rev int64, initial []kv) {
	defer w.wg.Done()
	defer close(w.result)
	defer w.cancel()

	for _, e := range initial {
		obj, err := w.store.decodeNew(e.key, e.data, e.rev)
		if err == nil {
			var ok bool
			if ok, err = w.matches(e.key, obj); err == nil && ok && !w.send(ctx, watch.Event{Type: watch.Added, Object: obj}) {
				return
			}
		}
		if err != nil {
			w.sendError(ctx, err)
			return
		}
	}
	var tick <-chan time.Time // nil: no periodic bookmarks
	if w.bookmarks && w.store.interval > 0 {
		t := w.store.clock.NewTicker(w.store.interval)
		defer t.Stop()
		tick = t.C()
	}
	for {
		s := w.store
		s.mu.Lock()
		s.expireLocked()
		events, ok := s.since(rev)
		cur, changed, progress := s.rev, s.changed, s.progress
		compacted := s.compacted
		s.mu.Unlock()
		if !ok {
			w.sendError(ctx, storage.NewWatchExpiredError(w.key, rev, compacted))
			return
		}
		for i := range events {
			ev, err := w.convert(&events[i])
			if err != nil {
				w.sendError(ctx, err)
				return
			}
			if ev != nil && !w.send(ctx, *ev) {
				return
			}
			rev = events[i].rev
		}
		if progress != w.progressSeen {
			w.progressSeen = progress
			if w.bookmarks && !w.sendBookmark(ctx, cur) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick:
			if !w.sendBookmark(ctx, cur) {
				return
			}
		}
	}
}

// convert turns an event into the watch event this watcher's client sees, or
// nil when the client is not interested (etcd3's rules).
func (w *watcher) convert(e *event) (*watch.Event, error) {
	if w.recursive && !strings.HasPrefix(e.key, w.k) || !w.recursive && e.key != w.k {
		return nil, nil
	}
	var cur, prev runtime.Object
	var err error
	if e.data != nil {
		if cur, err = w.store.decodeNew(e.key, e.data, e.rev); err != nil {
			return nil, err
		}
	}
	// The previous state is needed for deletions, and for updates when a
	// selector may make the object enter or leave the watch. It is reported
	// with the revision of this event.
	if e.prev != nil && (cur == nil || !w.pred.Empty()) {
		if prev, err = w.store.decodeNew(e.key, e.prev, e.rev); err != nil {
			return nil, err
		}
	}
	curOK, err := w.matches(e.key, cur)
	if err != nil {
		return nil, err
	}
	prevOK, err := w.matches(e.key, prev)
	if err != nil {
		return nil, err
	}
	switch {
	case cur == nil && prevOK:
		return &watch.Event{Type: watch.Deleted, Object: prev}, nil
	case cur == nil:
		return nil, nil
	case e.created && curOK:
		return &watch.Event{Type: watch.Added, Object: cur}, nil
	case e.created:
		return nil, nil
	case w.pred.Empty() || curOK && prevOK:
		return &watch.Event{Type: watch.Modified, Object: cur}, nil
	case curOK:
		return &watch.Event{Type: watch.Added, Object: cur}, nil
	case prevOK:
		return &watch.Event{Type: watch.Deleted, Object: prev}, nil
	default:
		return nil, nil
	}
}

func (w *watcher) matches(key string, obj runtime.Object) (bool, error) {
	if obj == nil {
		return false, nil
	}
	ok, err := w.pred.Matches(obj)
	if err != nil {
		return false, storage.NewInvalidObjError(key, err)
	}
	return ok, nil
}

func (w *watcher) sendBookmark(ctx context.Context, rev int64) bool {
	obj := w.store.newFunc()
	if err := w.store.versioner.UpdateObject(obj, uint64(rev)); err != nil {
		return true // not fatal: bookmarks are optional
	}
	return w.send(ctx, watch.Event{Type: watch.Bookmark, Object: obj})
}

func (w *watcher) sendError(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // stopped by the client: nobody to tell
	}
	w.send(ctx, watch.Event{Type: watch.Error, Object: storage.WatchErrorStatus(err)})
}

// send delivers ev unless the watch is stopped first; it reports whether it did.
func (w *watcher) send(ctx context.Context, ev watch.Event) bool {
	select {
	case w.result <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
