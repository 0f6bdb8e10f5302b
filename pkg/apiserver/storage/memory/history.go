package memory

import (
	"slices"
	"sort"
	"strings"
)

// version is one state of a key: the data written at revision rev, or a
// deletion (data nil).
type version struct {
	rev  int64
	data []byte
}

// event is one write, as watches replay it.
type event struct {
	rev     int64
	key     string
	data    []byte // nil for a deletion
	prev    []byte // the state before; nil when the key did not exist
	created bool   // the key did not exist before this write
}

// history is the MVCC state of a store: every key's versions since the
// compacted revision, and the events after it. Guarded by Store.mu.
type history struct {
	rev       int64 // the current revision
	compacted int64 // states before this revision are gone (0: none)
	versions  map[string][]version
	keys      []string // the keys of versions, sorted
	events    []event  // ascending revisions, each > compacted-1
}

func newHistory() history {
	return history{rev: 1, versions: map[string][]version{}}
}

// latest returns the current state of key; ok is false when it does not exist.
func (h *history) latest(key string) (version, bool) {
	vs := h.versions[key]
	if len(vs) == 0 || vs[len(vs)-1].data == nil {
		return version{}, false
	}
	return vs[len(vs)-1], true
}

// at returns the state of key at revision rev.
func (h *history) at(key string, rev int64) (version, bool) {
	vs := h.versions[key]
	i := sort.Search(len(vs), func(i int) bool { return vs[i].rev > rev })
	if i == 0 || vs[i-1].data == nil {
		return version{}, false
	}
	return vs[i-1], true
}

// appendLocked records a write of data (nil: deletion) at key as the next
// revision and returns it.
func (h *history) appendLocked(key string, data []byte) int64 {
	h.rev++
	prev, existed := h.latest(key)
	vs, known := h.versions[key]
	if !known {
		i, _ := slices.BinarySearch(h.keys, key)
		h.keys = slices.Insert(h.keys, i, key)
	}
	h.versions[key] = append(vs, version{rev: h.rev, data: data})
	e := event{rev: h.rev, key: key, data: data, created: !existed}
	if existed {
		e.prev = prev.data
	}
	h.events = append(h.events, e)
	return h.rev
}

// compactLocked discards what is not needed to read revisions >= rev: per
// key, the versions superseded at rev, and deleted keys; and the events
// before rev.
func (h *history) compactLocked(rev int64) {
	h.compacted = rev
	keys := h.keys[:0]
	for _, key := range h.keys {
		vs := h.versions[key]
		// Keep the state at rev (the last version <= rev) and what follows.
		i := sort.Search(len(vs), func(i int) bool { return vs[i].rev > rev })
		if i > 0 {
			i--
			if vs[i].data == nil {
				i++ // deleted at rev: nothing to keep of that state
			}
		}
		if i == len(vs) {
			delete(h.versions, key)
			continue
		}
		h.versions[key] = slices.Clone(vs[i:])
		keys = append(keys, key)
	}
	clear(h.keys[len(keys):])
	h.keys = keys
	i := sort.Search(len(h.events), func(i int) bool { return h.events[i].rev >= rev })
	h.events = slices.Clone(h.events[i:])
}

// since returns the events after revision rev. ok is false when some of them
// were compacted.
func (h *history) since(rev int64) (events []event, ok bool) {
	if rev+1 < h.compacted {
		return nil, false
	}
	i := sort.Search(len(h.events), func(i int) bool { return h.events[i].rev > rev })
	return h.events[i:], true
}

// keyRange returns the keys from fromKey (inclusive) that start with prefix,
// in order.
func (h *history) keyRange(prefix, fromKey string) []string {
	if fromKey < prefix {
		fromKey = prefix
	}
	i, _ := slices.BinarySearch(h.keys, fromKey)
	j := i
	for j < len(h.keys) && strings.HasPrefix(h.keys[j], prefix) {
		j++
	}
	return h.keys[i:j]
}

func sortStrings(s []string) { slices.Sort(s) }
