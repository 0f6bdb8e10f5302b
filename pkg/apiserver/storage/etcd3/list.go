package etcd3

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// maxPageSize caps how many keys one etcd range of a filtered, paged list reads.
const maxPageSize = 10000

// listRevision works out, from the list options, which revision to read at
// (0: the latest) and which key to start from ("" for the prefix itself).
// minRV is the revision the result must not be older than.
func listRevision(key, keyPrefix string, opts storage.ListOptions) (withRev, minRV int64, fromKey string, err error) {
	if opts.Recursive && opts.Continue != "" {
		if opts.ResourceVersion != "" && opts.ResourceVersion != "0" {
			return 0, 0, "", storage.NewBadRequestError(key, "specifying resource version is not allowed when using continue")
		}
		fromKey, rv, err := storage.DecodeContinue(opts.Continue, keyPrefix)
		if err != nil {
			return 0, 0, "", storage.NewInvalidContinueError(key, err)
		}
		if rv > 0 {
			withRev = rv
		}
		return withRev, 0, fromKey, nil
	}
	rv, err := parseRV(key, opts.ResourceVersion)
	if err != nil || rv == 0 {
		return 0, 0, "", err
	}
	switch opts.ResourceVersionMatch {
	case metav1.ResourceVersionMatchExact:
		return rv, 0, "", nil
	case metav1.ResourceVersionMatchNotOlderThan:
		return 0, rv, "", nil
	case "":
		if opts.Recursive && opts.Limit > 0 {
			return rv, 0, "", nil // legacy: a paged list at N reads exactly N
		}
		return 0, rv, "", nil
	default:
		return 0, 0, "", storage.NewBadRequestError(key, fmt.Sprintf("unknown resourceVersionMatch %q", opts.ResourceVersionMatch))
	}
}

// GetList implements storage.Interface.
func (s *store) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	etcdKey, err := s.prepareKey(key)
	if err != nil {
		return err
	}
	items, err := itemsValue(listObj)
	if err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	keyPrefix := etcdKey
	if opts.Recursive && !strings.HasSuffix(keyPrefix, "/") {
		keyPrefix += "/"
	}
	withRev, minRV, fromKey, err := listRevision(key, keyPrefix, opts)
	if err != nil {
		return err
	}

	limit := opts.Limit
	paging := opts.Recursive && limit > 0
	var getOpts []clientv3.OpOption
	startKey := etcdKey
	if opts.Recursive {
		startKey = keyPrefix
		if fromKey != "" {
			startKey = fromKey
		}
		getOpts = append(getOpts, clientv3.WithRange(clientv3.GetPrefixRangeEnd(keyPrefix)))
	}
	if paging {
		getOpts = append(getOpts, clientv3.WithLimit(limit))
	}
	if withRev != 0 {
		getOpts = append(getOpts, clientv3.WithRev(withRev))
	}

	var (
		resp    *clientv3.GetResponse
		lastKey []byte
		hasMore bool
		matched int64
	)
	for {
		resp, err = s.client.Get(ctx, startKey, getOpts...)
		if err != nil {
			return s.listError(key, keyPrefix, fromKey, withRev, err)
		}
		if withRev == 0 {
			// Pin every further page to the revision of the first one.
			withRev = resp.Header.Revision
			getOpts = append(getOpts, clientv3.WithRev(withRev))
			if minRV > withRev {
				return storage.NewTooLargeResourceVersionError(key, minRV, withRev)
			}
		}
		hasMore = resp.More
		if len(resp.Kvs) == 0 && resp.More {
			return fmt.Errorf("list %s: etcd returned no keys but reported more", key)
		}
		// Room for the page up front: growing by append copies every
		// (large, by-value) item again and again.
		items.Grow(len(resp.Kvs))
		for i, kv := range resp.Kvs {
			if paging && matched >= opts.Limit {
				hasMore = true
				break
			}
			lastKey = kv.Key
			obj, err := appendItem(items, func(into runtime.Object) error {
				return s.decodeKV(s.storageKey(kv), kv, into)
			})
			if err != nil {
				return err
			}
			ok, err := opts.Predicate.Matches(obj)
			if err != nil {
				return storage.NewInvalidObjError(s.storageKey(kv), err)
			}
			if ok {
				matched++
			} else {
				items.SetLen(items.Len() - 1)
			}
			resp.Kvs[i] = nil // let long lists free memory as they go
		}
		if !paging || !hasMore || matched >= opts.Limit {
			break
		}
		// The predicate dropped items: read bigger pages to fill the limit sooner.
		if limit < maxPageSize {
			limit = min(limit*2, maxPageSize)
			getOpts = append(getOpts, clientv3.WithLimit(limit))
		}
		startKey = string(lastKey) + "\x00"
	}

	if !hasMore {
		return s.versioner.UpdateList(listObj, uint64(withRev), "", nil)
	}
	next, err := storage.EncodeContinue(string(lastKey)+"\x00", keyPrefix, withRev)
	if err != nil {
		return fmt.Errorf("list %s: %w", key, err)
	}
	var remainingItemCount *int64
	if opts.Predicate.Empty() {
		// Known only without a selector (one page was read, every key matched):
		// etcd counts the keys from the page's start, not the matches.
		remaining := resp.Count - matched
		remainingItemCount = &remaining
	}
	return s.versioner.UpdateList(listObj, uint64(withRev), next, remainingItemCount)
}

// listError turns an etcd error of a list into a storage error.
func (s *store) listError(key, keyPrefix, fromKey string, rev int64, err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		if fromKey != "" {
			next, encErr := storage.EncodeContinue(fromKey, keyPrefix, -1)
			if encErr != nil {
				return fmt.Errorf("list %s: %w", key, encErr)
			}
			return storage.NewContinueExpiredError(key, rev, 0, next)
		}
		return storage.NewListExpiredError(key, rev, 0)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return storage.NewTooLargeResourceVersionError(key, rev, 0)
	default:
		return fmt.Errorf("list %s: %w", key, err)
	}
}

// itemsValue returns the (emptied) Items slice of a list object.
func itemsValue(listObj runtime.Object) (reflect.Value, error) {
	ptr, err := meta.GetItemsPtr(listObj)
	if err != nil {
		return reflect.Value{}, err
	}
	v := reflect.ValueOf(ptr)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Slice {
		return reflect.Value{}, fmt.Errorf("list items of %T are not a slice", listObj)
	}
	v = v.Elem()
	v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	return v, nil
}

// appendItem appends a new element to items, fills it with decode and returns it
// as an object (pointing into the slice).
func appendItem(items reflect.Value, decode func(runtime.Object) error) (runtime.Object, error) {
	elemType := items.Type().Elem()
	var obj runtime.Object
	switch elemType.Kind() {
	case reflect.Struct:
		items.Set(reflect.Append(items, reflect.New(elemType).Elem()))
		o, ok := items.Index(items.Len() - 1).Addr().Interface().(runtime.Object)
		if !ok {
			return nil, fmt.Errorf("list item type %v is not an object", elemType)
		}
		obj = o
	case reflect.Pointer:
		o, ok := reflect.New(elemType.Elem()).Interface().(runtime.Object)
		if !ok {
			return nil, fmt.Errorf("list item type %v is not an object", elemType)
		}
		items.Set(reflect.Append(items, reflect.ValueOf(o)))
		obj = o
	default:
		return nil, fmt.Errorf("unsupported list item type %v", elemType)
	}
	if err := decode(obj); err != nil {
		return nil, err
	}
	return obj, nil
}
