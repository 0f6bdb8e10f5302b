package memory

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage"
)

// listRevision works out, from the list options, which revision to read at
// (0: the latest) and which key to start from ("" for the prefix itself).
// minRV is the revision the result must not be older than. It is etcd3's.
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

// kv is one key's state read by a list.
type kv struct {
	key string
	version
}

// GetList implements storage.Interface.
func (s *Store) GetList(ctx context.Context, key string, opts storage.ListOptions, listObj runtime.Object) error {
	k, err := prepareKey(key)
	if err != nil {
		return err
	}
	if _, err := meta.GetItemsPtr(listObj); err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	keyPrefix := k
	if opts.Recursive && !strings.HasSuffix(keyPrefix, "/") {
		keyPrefix += "/"
	}
	withRev, minRV, fromKey, err := listRevision(key, keyPrefix, opts)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", key, err)
	}

	s.mu.Lock()
	s.expireLocked()
	cur, compacted := s.rev, s.compacted
	if withRev == 0 {
		withRev = cur
	}
	var kvs []kv
	switch {
	case withRev > cur:
		err = storage.NewTooLargeResourceVersionError(key, withRev, 0)
	case withRev < compacted:
		err = s.expiredList(key, keyPrefix, fromKey, withRev)
	case opts.Recursive:
		for _, key := range s.keyRange(keyPrefix, fromKey) {
			if v, ok := s.at(key, withRev); ok {
				kvs = append(kvs, kv{key: key, version: v})
			}
		}
	default:
		if v, ok := s.at(k, withRev); ok {
			kvs = append(kvs, kv{key: k, version: v})
		}
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if minRV > withRev {
		return storage.NewTooLargeResourceVersionError(key, minRV, withRev)
	}

	paging := opts.Recursive && opts.Limit > 0
	items := make([]runtime.Object, 0, len(kvs))
	var lastKey string
	read := 0 // keys looked at
	for _, e := range kvs {
		if paging && int64(len(items)) >= opts.Limit {
			break
		}
		read++
		lastKey = e.key
		obj, err := s.decodeNew(e.key, e.data, e.rev)
		if err != nil {
			return err
		}
		ok, err := opts.Predicate.Matches(obj)
		if err != nil {
			return storage.NewInvalidObjError(e.key, err)
		}
		if ok {
			items = append(items, obj)
		}
	}
	if err := meta.SetList(listObj, items); err != nil {
		return storage.NewInvalidObjError(key, err)
	}
	if read == len(kvs) {
		return s.versioner.UpdateList(listObj, uint64(withRev), "", nil)
	}
	next, err := storage.EncodeContinue(lastKey+"\x00", keyPrefix, withRev)
	if err != nil {
		return fmt.Errorf("list %s: %w", key, err)
	}
	var remainingItemCount *int64
	if opts.Predicate.Empty() {
		// Known only without a selector, as etcd3 reports it.
		remaining := int64(len(kvs) - read)
		remainingItemCount = &remaining
	}
	return s.versioner.UpdateList(listObj, uint64(withRev), next, remainingItemCount)
}

// expiredList is the error of a list at a compacted revision: with a token
// resuming at the latest revision when it was a continuation.
func (s *Store) expiredList(key, keyPrefix, fromKey string, rev int64) error {
	if fromKey == "" {
		return storage.NewListExpiredError(key, rev, 0)
	}
	next, err := storage.EncodeContinue(fromKey, keyPrefix, -1)
	if err != nil {
		return fmt.Errorf("list %s: %w", key, err)
	}
	return storage.NewContinueExpiredError(key, rev, 0, next)
}
