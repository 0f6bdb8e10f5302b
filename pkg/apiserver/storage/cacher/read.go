package cacher

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// Get serves resourceVersion "0" ("any state") from the cache, as
// kube-apiserver's watch cache does, and delegates every other read (any
// read before the first list completed, and an object the cache does not
// hold) to the store.
func (c *Cacher) Get(ctx context.Context, key string, opts storage.GetOptions, out runtime.Object) error {
	if opts.ResourceVersion != "0" || !c.isReady() || !c.owns(key) {
		return c.Interface.Get(ctx, key, opts, out)
	}
	c.mu.Lock()
	el := c.objects[key]
	c.mu.Unlock()
	if el == nil {
		// Not seen (yet): the store decides, so an object created a moment
		// ago is not reported missing.
		return c.Interface.Get(ctx, key, opts, out)
	}
	return copyInto(out, el.obj.DeepCopyObject())
}

// GetList serves from the cache, in key order, the whole selection at the
// cache's revision:
//   - resourceVersion "0" lists without a continue token. A limit is then
//     ignored, as kube-apiserver does for lists served from its watch cache
//     (the answer has no continue token, which clients handle);
//   - consistent lists (resourceVersion "", no limit, no continue), once the
//     cache has caught up with etcd's current revision, asked for with a
//     count-only read: everything written before the request is in the
//     answer, as upstream's ConsistentListFromCache does. A cache that does
//     not catch up within FreshnessTimeout leaves the list to the store.
//
// Other lists go to the store, and so does everything before the first list
// completed.
func (c *Cacher) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	consistent := opts.ResourceVersion == "" && opts.Limit <= 0
	if (opts.ResourceVersion != "0" && !consistent) || opts.Continue != "" || opts.ResourceVersionMatch != "" ||
		!c.isReady() || !c.owns(key) {
		return c.Interface.GetList(ctx, key, opts, listObj)
	}
	if consistent {
		cur, err := c.Interface.GetCurrentResourceVersion(ctx)
		if err != nil {
			return c.Interface.GetList(ctx, key, opts, listObj)
		}
		if err := c.waitFresh(ctx, key, int64(cur)); err != nil {
			if ctx.Err() != nil {
				return err
			}
			c.cfg.Logger.Debug("cache not fresh in time, listing from the store", "key", key, "rv", cur)
			return c.Interface.GetList(ctx, key, opts, listObj)
		}
	}
	w := &cacheWatcher{key: key, recursive: opts.Recursive, pred: opts.Predicate}
	c.mu.Lock()
	selected := make([]*element, 0, len(c.objects))
	for _, el := range c.objects {
		if w.selects(el) {
			selected = append(selected, el)
		}
	}
	rv := c.rv
	c.mu.Unlock()
	sort.Slice(selected, func(i, j int) bool { return selected[i].key < selected[j].key })
	items := make([]runtime.Object, len(selected))
	for i, el := range selected {
		items[i] = el.obj.DeepCopyObject()
	}
	if err := meta.SetList(listObj, items); err != nil {
		return err
	}
	return c.cfg.Versioner.UpdateList(listObj, uint64(rv), "", nil)
}

func (c *Cacher) isReady() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// owns tells whether key lies in the cached resource.
func (c *Cacher) owns(key string) bool {
	return key == c.cfg.ResourcePrefix || keyMatches(key, c.cfg.ResourcePrefix, true)
}

// copyInto sets the typed object behind out to the one behind obj.
func copyInto(out, obj runtime.Object) error {
	dst, src := reflect.ValueOf(out), reflect.ValueOf(obj)
	if dst.Kind() != reflect.Pointer || src.Type() != dst.Type() {
		return storage.NewInvalidObjError("", errTypeMismatch{out: out, obj: obj})
	}
	dst.Elem().Set(src.Elem())
	return nil
}

type errTypeMismatch struct{ out, obj runtime.Object }

func (e errTypeMismatch) Error() string {
	return fmt.Sprintf("cacher: cannot copy %T into %T", e.obj, e.out)
}
