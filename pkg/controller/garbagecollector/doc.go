// Package garbagecollector is upstream's garbage-collector-controller: it
// deletes objects whose owners are gone, and carries out the foreground and
// orphan deletions the apiserver records with finalizers.
//
// A graph builder watches every served resource that can be listed,
// watched and deleted (found through discovery, and again every 30 s so
// that resources served later are picked up) with metadata-only informers,
// and keeps a graph of ownerReferences: one node per object uid, edges from
// owners to dependents. An owner referenced but not (yet) observed is a
// "virtual" node, checked against the API.
//
// Workers process two kinds of keys from one queue:
//
//   - "delete/<uid>": the object is looked at live. When it has owners and
//     every one is gone (not found, or found with another uid: a
//     "dangling" reference, remembered in an absent-owner cache), it is
//     deleted with propagation Background (or the policy its own
//     finalizers record); when some owners live, the references to the
//     gone ones are removed with a JSON merge patch guarded by
//     resourceVersion. An object deleting its dependents in the foreground
//     (deletionTimestamp and the foregroundDeletion finalizer) has its
//     blocking dependents (blockOwnerDeletion=true) deleted and loses the
//     finalizer once none remains.
//   - "orphan/<uid>": an object being deleted with the orphan finalizer
//     has its uid removed from every dependent's ownerReferences, then
//     loses the finalizer.
//
// Conflicts are retried from fresh reads; a reference to a kind discovery
// does not know is retried with backoff, never a crash. An ownerReference
// to a namespaced owner observed in another namespace gets upstream's
// OwnerRefInvalidNamespace warning event on the dependent.
package garbagecollector
