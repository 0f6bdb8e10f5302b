// Package cacher puts a shared watch in front of a storage.Interface: one
// underlying watch per resource (one etcd watch for all pods, however many
// clients watch pods), fanned out to any number of watchers.
//
// A Cacher lists its resource once, then follows the underlying watch and keeps
// the current state in memory plus a bounded window of recent events. A client
// watch from revision N replays the window's events after N and then streams; a
// watch from "" or "0" first gets the current state as ADDED events. A revision
// older than the window is answered with a watch whose only event is an ERROR
// carrying a 410 Expired Status ("too old resource version: N (M)"), and the
// client relists. Each watcher filters by its own key and selectors, turning an
// object that leaves the selection into DELETED and one that enters into ADDED.
//
// Slow watchers do not slow down the others for long: every watcher has a
// bounded buffer (WatcherBufferSize); when an event finds buffers full, the
// cacher waits at most DispatchTimeout for all of them together, then terminates
// the watchers still full (their result channel closes after the buffered
// events). A client-go reflector then re-watches from the last revision it saw,
// or relists if that fell out of the window. When the underlying watch expires
// (the cacher itself fell behind compaction), the cacher relists and terminates
// every watcher the same way.
//
// Bookmarks: every BookmarkInterval the cacher asks the underlying store for a
// progress notification (storage.ProgressRequester, etcd's RequestProgress) and
// sends watchers that allow bookmarks a BOOKMARK at the revision it has reached,
// so their resourceVersion advances even when the resource is idle.
//
// Reads: Get and GetList at resourceVersion "0" are served from the cache,
// and so is a GetList at "" (most recent, unpaged) once the cache has
// reached the store's current revision (a count-only read, then a progress
// request): it is as consistent as a quorum read of etcd, without decoding
// every object again. Other reads and all writes go to the underlying store.
package cacher
