// Package memory implements storage.Interface in memory: the twin of
// storage/etcd3 for hermetic tests of everything above storage (the cacher,
// registry/generic, handlers), passing the same conformance suite
// (storage/storagetest).
//
// It behaves as etcd3 over a one-member etcd does, as far as a client can
// tell:
//   - one global revision, advanced by every write (create, update, delete,
//     TTL expiry); an object's resourceVersion is the revision of its last
//     write, a list's the revision it was read at;
//   - objects are kept encoded by the injected codec, so what callers get is
//     always a fresh decode, never shared state;
//   - an MVCC history: lists read at a pinned revision page with the same
//     continue tokens as etcd3, and exact-revision reads work until that
//     revision is compacted;
//   - a bounded history (Config.HistorySize revisions, plus Compact as etcd's
//     compaction): older revisions are 410 Expired for lists, continue tokens
//     and watches (a watch gets one ERROR event, as etcd3 sends);
//   - watches with etcd3's event conversion (selector transitions become
//     ADDED/DELETED), and BOOKMARK progress notifications, every
//     Config.ProgressNotifyInterval and on RequestWatchProgress;
//   - TTLs measured on the injected clock. Expiry is applied lazily, at the
//     next operation on the store (as a DELETED event at a new revision), or
//     by Expire.
//
// The errors are those of etcd3 (storage.NewKeyNotFoundError, ...), with the
// same keys and revisions.
package memory
