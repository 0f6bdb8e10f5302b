// Package etcd3 implements storage.Interface directly over etcd (go.etcd.io/etcd/client/v3).
//
// Layout: the object at storage key "/pods/default/nginx" lives at etcd key
// "<prefix>/pods/default/nginx" (prefix is the apiserver's --etcd-prefix,
// "/registry" by default), encoded by the injected codec (JSON with apiVersion and
// kind) without its resourceVersion. An object's resourceVersion is the etcd
// ModRevision of its key; a list's is the revision it was read at.
//
// Every write is a single etcd transaction: Create puts if CreateRevision is 0,
// updates and deletes compare ModRevision with the revision they read and retry
// (re-reading) when they lose. Lists read pages at one pinned revision and hand
// out kube-apiserver compatible continue tokens. Each Watch opens its own etcd
// watch; the cacher package shares one per resource instead.
//
// Compactor compacts etcd's history periodically as kube-apiserver does, so that
// old revisions become 410 Expired for lists and watches.
package etcd3
