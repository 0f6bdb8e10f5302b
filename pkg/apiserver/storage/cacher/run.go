package cacher

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// errRelist ends a listAndWatch round when the underlying watch can no longer be
// resumed.
var errRelist = errors.New("cacher: underlying watch expired")

// run keeps the cache in sync with the store until ctx ends: list, then watch
// from the list's revision, resuming the watch where it stopped, and relisting
// when that revision has expired.
func (c *Cacher) run(ctx context.Context) {
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.stopped = true
		for _, w := range c.watchers {
			c.removeLocked(w)
		}
	}()
	for ctx.Err() == nil {
		err := c.listAndWatch(ctx)
		if ctx.Err() != nil {
			return
		}
		c.cfg.Logger.Info("cacher relisting", "resource", c.cfg.ResourcePrefix, "reason", err)
		if !errors.Is(err, errRelist) {
			select {
			case <-ctx.Done():
			case <-c.cfg.Clock.After(relistBackoff):
			}
		}
	}
}

// listAndWatch lists the resource, then follows its changes. It returns when the
// list fails, the watch expires, or ctx ends.
func (c *Cacher) listAndWatch(ctx context.Context) error {
	list := c.cfg.NewListFunc()
	if err := c.Interface.GetList(ctx, c.cfg.ResourcePrefix, storage.ListOptions{Recursive: true}, list); err != nil {
		return fmt.Errorf("list %s: %w", c.cfg.ResourcePrefix, err)
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return fmt.Errorf("list %s: %w", c.cfg.ResourcePrefix, err)
	}
	rv, err := storage.ParseResourceVersion(lm.GetResourceVersion())
	if err != nil {
		return fmt.Errorf("list %s: %w", c.cfg.ResourcePrefix, err)
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return fmt.Errorf("list %s: %w", c.cfg.ResourcePrefix, err)
	}
	if err := c.replace(items, int64(rv)); err != nil {
		return err
	}
	for {
		c.mu.Lock()
		from := c.rv
		c.mu.Unlock()
		w, err := c.Interface.Watch(ctx, c.cfg.ResourcePrefix, storage.ListOptions{
			ResourceVersion: storage.FormatResourceVersion(uint64(from)),
			Recursive:       true,
			ProgressNotify:  true,
		})
		if err != nil {
			return fmt.Errorf("watch %s: %w", c.cfg.ResourcePrefix, err)
		}
		events, err := c.consume(ctx, w)
		w.Stop()
		if err != nil || ctx.Err() != nil {
			return err
		}
		// The underlying watch ended cleanly: resume from where it stopped, after
		// a pause if it ended without delivering anything (the store may be
		// closing watches as fast as they open).
		if events == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-c.cfg.Clock.After(relistBackoff):
			}
		}
	}
}

// consume applies the events of the underlying watch until it ends or ctx does,
// and returns how many it got.
func (c *Cacher) consume(ctx context.Context, w watch.Interface) (int, error) {
	for n := 0; ; n++ {
		var ev watch.Event
		select {
		case <-ctx.Done():
			return n, nil
		case e, ok := <-w.ResultChan():
			if !ok {
				return n, nil
			}
			ev = e
		}
		switch ev.Type {
		case watch.Added, watch.Modified, watch.Deleted:
			if err := c.process(ev.Type, ev.Object); err != nil {
				return n, err
			}
		case watch.Bookmark:
			rv, err := c.cfg.Versioner.ObjectResourceVersion(ev.Object)
			if err != nil {
				return n, fmt.Errorf("bookmark resourceVersion: %w", err)
			}
			c.advance(int64(rv))
		case watch.Error:
			if st, ok := ev.Object.(*metav1.Status); ok && st.Code == http.StatusGone {
				return n, errRelist
			}
			return n, fmt.Errorf("watch %s: error event: %v", c.cfg.ResourcePrefix, ev.Object)
		}
	}
}

// bookmarkLoop starts a bookmark round every BookmarkInterval: it asks the store
// for a progress notification, and the bookmarks go out when it arrives (see
// advance). A round that got no notification by the next tick sends its
// bookmarks at the revision the cache has.
func (c *Cacher) bookmarkLoop(ctx context.Context) {
	ticker := c.cfg.Clock.NewTicker(c.cfg.BookmarkInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
		if !c.wantsBookmarks() {
			continue
		}
		c.mu.Lock()
		if c.bookmarkDue || c.progress == nil {
			c.sendBookmarksLocked()
		}
		c.bookmarkDue = c.progress != nil
		c.mu.Unlock()
		if c.progress != nil {
			if err := c.progress.RequestWatchProgress(ctx); err != nil && ctx.Err() == nil {
				c.cfg.Logger.Debug("request watch progress", "error", err)
			}
		}
	}
}
