package cacher

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// element is one object of the cache with the attributes selectors match on
// (when Config.GetAttrs is set). Elements are immutable once built and shared by
// every watcher.
type element struct {
	key      string
	obj      runtime.Object // resourceVersion set
	hasAttrs bool
	labels   labels.Set
	fields   fields.Set
}

// event is one change of the resource, as kept in the window.
type event struct {
	typ watch.EventType // Added, Modified or Deleted, as the store reported it
	rv  int64
	// cur is the new state; for Deleted, the last state at the deletion revision.
	cur *element
	// prev is the state before the change; nil if the object did not exist.
	prev *element
	// prevAtRV is prev's object stamped with rv, built on first use (under
	// Cacher.mu): what a watcher gets as DELETED when the object leaves its
	// selection.
	prevAtRV runtime.Object
}

// cache is the state of a Cacher; every field is guarded by Cacher.mu.
type cache struct {
	rv         int64         // the revision the cache reflects
	rvChanged  chan struct{} // closed and replaced whenever rv advances
	lowerBound int64         // watches can resume from revisions >= lowerBound
	objects    map[string]*element
	window     *ring
	watchers   map[uint64]*cacheWatcher
	nextID     uint64
	// stopped is set when the cacher has stopped: no watcher can register.
	stopped bool
	// bookmarkDue is set when a bookmark round started and the progress
	// notification that completes it has not arrived yet.
	bookmarkDue bool
}

func newCache(windowSize int) cache {
	return cache{
		rvChanged: make(chan struct{}),
		objects:   map[string]*element{},
		window:    newRing(windowSize),
		watchers:  map[uint64]*cacheWatcher{},
	}
}

// newElement computes key and attributes of obj.
func (c *Cacher) newElement(obj runtime.Object) (*element, error) {
	key, err := c.cfg.KeyFunc(obj)
	if err != nil {
		return nil, fmt.Errorf("key of %T: %w", obj, err)
	}
	el := &element{key: key, obj: obj}
	if c.cfg.GetAttrs != nil {
		if el.labels, el.fields, err = c.cfg.GetAttrs(obj); err != nil {
			return nil, fmt.Errorf("attributes of %s: %w", key, err)
		}
		el.hasAttrs = true
	}
	return el, nil
}

// replace resets the cache to a freshly listed state at revision rv. Existing
// watchers are terminated: the events between the old state and this one are
// unknown, so they must resume (or relist) against the new window.
func (c *Cacher) replace(items []runtime.Object, rv int64) error {
	objects := make(map[string]*element, len(items))
	for _, obj := range items {
		el, err := c.newElement(obj)
		if err != nil {
			return err
		}
		objects[el.key] = el
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.watchers {
		c.removeLocked(w)
	}
	c.objects = objects
	c.window = newRing(c.cfg.WindowSize)
	c.lowerBound = rv
	c.setRVLocked(rv)
	c.once.Do(func() { close(c.ready) })
	return nil
}

// process applies one event of the underlying watch and dispatches it.
func (c *Cacher) process(typ watch.EventType, obj runtime.Object) error {
	rv, err := c.cfg.Versioner.ObjectResourceVersion(obj)
	if err != nil {
		return fmt.Errorf("event resourceVersion: %w", err)
	}
	el, err := c.newElement(obj)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &event{typ: typ, rv: int64(rv), cur: el, prev: c.objects[el.key]}
	if typ == watch.Deleted {
		delete(c.objects, el.key)
	} else {
		c.objects[el.key] = el
	}
	if evicted := c.window.push(e); evicted != nil {
		c.lowerBound = evicted.rv
	}
	c.setRVLocked(e.rv)
	c.dispatchLocked(e)
	return nil
}

// advance records a progress notification: every event up to rv was processed.
func (c *Cacher) advance(rv int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setRVLocked(rv)
	if c.bookmarkDue {
		c.bookmarkDue = false
		c.sendBookmarksLocked()
	}
}

func (c *Cacher) setRVLocked(rv int64) {
	if rv <= c.rv {
		return
	}
	c.rv = rv
	close(c.rvChanged)
	c.rvChanged = make(chan struct{})
}

// register adds w and returns the events it must get before the live ones: the
// current state as ADDED events when initialState, or else the window's events
// after fromRV. A fromRV older than the window is an Expired error.
func (c *Cacher) register(w *cacheWatcher, key string, fromRV int64, initialState bool) ([]watch.Event, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, fmt.Errorf("watch %s: cacher stopped", key)
	}
	var initial []watch.Event
	if initialState {
		keys := make([]string, 0, len(c.objects))
		for k, el := range c.objects {
			if w.selects(el) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			initial = append(initial, watch.Event{Type: watch.Added, Object: c.objects[k].obj})
		}
	} else {
		if fromRV < c.lowerBound {
			return nil, storage.NewWatchExpiredError(key, fromRV, c.lowerBound)
		}
		for _, e := range c.window.since(fromRV) {
			if ev, ok := w.convert(e); ok {
				initial = append(initial, ev)
			}
		}
	}
	w.id = c.nextID
	c.nextID++
	w.lastRV = max(fromRV, c.rv)
	c.watchers[w.id] = w
	return initial, nil
}

// dispatchLocked queues e for every watcher it concerns. Watchers whose buffer
// is full get, together, up to DispatchTimeout to make room; those that do not
// are terminated. Blocking here holds up every watcher of the resource, which is
// why the wait is bounded.
func (c *Cacher) dispatchLocked(e *event) {
	type pending struct {
		w  *cacheWatcher
		ev watch.Event
	}
	var blocked []pending
	for _, w := range c.watchers {
		if e.rv <= w.lastRV {
			continue // the watcher started after this revision
		}
		w.lastRV = e.rv
		ev, ok := w.convert(e)
		if !ok {
			continue
		}
		select {
		case w.input <- ev:
		default:
			blocked = append(blocked, pending{w, ev})
		}
	}
	if len(blocked) == 0 {
		return
	}
	timer := c.cfg.Clock.NewTimer(c.cfg.DispatchTimeout)
	defer timer.Stop()
	expired := false
	for _, b := range blocked {
		if !expired {
			select {
			case b.w.input <- b.ev:
				continue
			case <-timer.C():
				expired = true
			}
		}
		select {
		case b.w.input <- b.ev:
		default:
			c.cfg.Logger.Warn("terminating watcher that fell behind", "key", b.w.key, "buffer", cap(b.w.input))
			c.removeLocked(b.w)
		}
	}
}

// sendBookmarksLocked sends a BOOKMARK at the cache's revision to every watcher
// that allows them. A watcher with a full buffer skips it.
func (c *Cacher) sendBookmarksLocked() {
	obj := c.cfg.NewFunc()
	if err := c.cfg.Versioner.UpdateObject(obj, uint64(c.rv)); err != nil {
		return
	}
	bookmark := watch.Event{Type: watch.Bookmark, Object: obj} // shared, like every event
	for _, w := range c.watchers {
		if !w.bookmarks || c.rv < w.lastRV {
			continue
		}
		select {
		case w.input <- bookmark:
			w.lastRV = c.rv
		default:
		}
	}
}

// wantsBookmarks tells whether any watcher allows bookmarks.
func (c *Cacher) wantsBookmarks() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.watchers {
		if w.bookmarks {
			return true
		}
	}
	return false
}

// remove unregisters w, if still registered.
func (c *Cacher) remove(w *cacheWatcher) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(w)
}

// removeLocked unregisters w and closes its input: w delivers what it buffered,
// then closes its result channel.
func (c *Cacher) removeLocked(w *cacheWatcher) {
	if c.watchers[w.id] != w {
		return
	}
	delete(c.watchers, w.id)
	close(w.input)
}

// keyMatches tells whether key is watched by a watch of watchKey.
func keyMatches(key, watchKey string, recursive bool) bool {
	if !recursive {
		return key == watchKey
	}
	return strings.HasPrefix(key, strings.TrimSuffix(watchKey, "/")+"/")
}
