package etcd3

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// resultBufferSize is how many converted events a direct watch buffers for a
// slow reader before it stops reading from etcd (etcd then buffers).
const resultBufferSize = 100

// watchContext returns the context every etcd watch and progress request of this
// package runs under. Watches must require a leader so that a partitioned member
// does not leave them silently stale; progress requests must carry the same
// metadata to reach the same gRPC watch stream.
func watchContext(ctx context.Context) context.Context {
	return clientv3.WithRequireLeader(ctx)
}

// Watch implements storage.Interface. Each call opens one etcd watch.
func (s *store) Watch(ctx context.Context, key string, opts storage.ListOptions) (watch.Interface, error) {
	if opts.SendInitialEvents != nil {
		return nil, storage.NewBadRequestError(key, "sendInitialEvents is not supported")
	}
	etcdKey, err := s.prepareKey(key)
	if err != nil {
		return nil, err
	}
	if opts.Recursive && !strings.HasSuffix(etcdKey, "/") {
		etcdKey += "/"
	}
	rev, err := parseRV(key, opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &etcdWatcher{
		store:     s,
		key:       key,
		etcdKey:   etcdKey,
		recursive: opts.Recursive,
		pred:      opts.Predicate,
		bookmarks: opts.AllowWatchBookmarks || opts.ProgressNotify,
		cancel:    cancel,
		result:    make(chan watch.Event, resultBufferSize),
	}
	w.wg.Add(1)
	go w.run(ctx, rev)
	return w, nil
}

// etcdWatcher is one watch.Interface backed by one etcd watch.
type etcdWatcher struct {
	store     *store
	key       string // storage key, for errors
	etcdKey   string
	recursive bool
	pred      storage.SelectionPredicate
	bookmarks bool
	cancel    context.CancelFunc
	result    chan watch.Event
	wg        sync.WaitGroup
}

// Stop implements watch.Interface. It returns once the result channel is closed.
func (w *etcdWatcher) Stop() {
	w.cancel()
	w.wg.Wait()
}

// ResultChan implements watch.Interface.
func (w *etcdWatcher) ResultChan() <-chan watch.Event { return w.result }

func (w *etcdWatcher) run(ctx context.Context, rev int64) {
	defer w.wg.Done()
	defer close(w.result)
	defer w.cancel()

	if rev == 0 {
		// "" and "0": the current state as ADDED events, then what follows it.
		var err error
		if rev, err = w.sendInitialState(ctx); err != nil {
			w.sendError(ctx, err)
			return
		}
	}
	opts := []clientv3.OpOption{clientv3.WithRev(rev + 1), clientv3.WithPrevKV()}
	if w.recursive {
		opts = append(opts, clientv3.WithPrefix())
	}
	if w.bookmarks {
		opts = append(opts, clientv3.WithProgressNotify())
	}
	for resp := range w.store.client.Watch(watchContext(ctx), w.etcdKey, opts...) {
		if err := resp.Err(); err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				err = storage.NewWatchExpiredError(w.key, rev, resp.CompactRevision)
			} else {
				err = fmt.Errorf("watch %s: %w", w.key, err)
			}
			w.sendError(ctx, err)
			return
		}
		if resp.IsProgressNotify() {
			if w.bookmarks && !w.sendBookmark(ctx, resp.Header.Revision) {
				return
			}
			continue
		}
		for _, e := range resp.Events {
			ev, err := w.convert(e)
			if err != nil {
				w.sendError(ctx, err)
				return
			}
			if ev != nil && !w.send(ctx, *ev) {
				return
			}
		}
	}
}

// sendInitialState sends the current state as ADDED events and returns the
// revision it was read at.
func (w *etcdWatcher) sendInitialState(ctx context.Context) (int64, error) {
	var opts []clientv3.OpOption
	if w.recursive {
		opts = append(opts, clientv3.WithPrefix())
	}
	resp, err := w.store.client.Get(ctx, w.etcdKey, opts...)
	if err != nil {
		return 0, fmt.Errorf("watch %s: list initial state: %w", w.key, err)
	}
	for _, kv := range resp.Kvs {
		obj, err := w.store.decodeNewStored(w.store.storageKey(kv), kv.Key, kv.Value, kv.ModRevision)
		if err != nil {
			return 0, err
		}
		ok, err := w.pred.Matches(obj)
		if err != nil {
			return 0, storage.NewInvalidObjError(w.store.storageKey(kv), err)
		}
		if ok && !w.send(ctx, watch.Event{Type: watch.Added, Object: obj}) {
			return 0, ctx.Err()
		}
	}
	return resp.Header.Revision, nil
}

// convert turns an etcd event into the watch event this watcher's client sees,
// or nil when the client is not interested.
func (w *etcdWatcher) convert(e *clientv3.Event) (*watch.Event, error) {
	var cur, prev runtime.Object
	var err error
	key := w.store.storageKey(e.Kv)
	if e.Type == clientv3.EventTypePut {
		if cur, err = w.store.decodeNewStored(key, e.Kv.Key, e.Kv.Value, e.Kv.ModRevision); err != nil {
			return nil, err
		}
	}
	// The previous state is needed for deletions, and for updates when a
	// selector may make the object enter or leave the watch. It is reported
	// with the revision of this event.
	if e.PrevKv != nil && (cur == nil || !w.pred.Empty()) {
		if prev, err = w.store.decodeNewStored(key, e.PrevKv.Key, e.PrevKv.Value, e.Kv.ModRevision); err != nil {
			return nil, err
		}
	}
	curOK, err := w.matches(key, cur)
	if err != nil {
		return nil, err
	}
	prevOK, err := w.matches(key, prev)
	if err != nil {
		return nil, err
	}
	switch {
	case cur == nil && prevOK:
		return &watch.Event{Type: watch.Deleted, Object: prev}, nil
	case cur == nil:
		return nil, nil
	case e.IsCreate() && curOK:
		return &watch.Event{Type: watch.Added, Object: cur}, nil
	case e.IsCreate():
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

func (w *etcdWatcher) matches(key string, obj runtime.Object) (bool, error) {
	if obj == nil {
		return false, nil
	}
	ok, err := w.pred.Matches(obj)
	if err != nil {
		return false, storage.NewInvalidObjError(key, err)
	}
	return ok, nil
}

func (w *etcdWatcher) sendBookmark(ctx context.Context, rev int64) bool {
	obj := w.store.newFunc()
	if err := w.store.versioner.UpdateObject(obj, uint64(rev)); err != nil {
		return true // not fatal: bookmarks are optional
	}
	return w.send(ctx, watch.Event{Type: watch.Bookmark, Object: obj})
}

func (w *etcdWatcher) sendError(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // stopped by the client: nobody to tell
	}
	w.send(ctx, watch.Event{Type: watch.Error, Object: storage.WatchErrorStatus(err)})
}

// send delivers ev unless the watch is stopped first; it reports whether it did.
func (w *etcdWatcher) send(ctx context.Context, ev watch.Event) bool {
	select {
	case w.result <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}
