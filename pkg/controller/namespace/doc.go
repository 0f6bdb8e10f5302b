// Package namespace is kube-controller-manager's "namespace" controller,
// the namespace deleter: it empties a namespace being deleted and then
// releases it to the apiserver.
//
// A namespace that `kubectl delete ns` marked (deletionTimestamp set, phase
// Terminating) keeps the "kubernetes" finalizer in spec.finalizers. For such
// a namespace the controller
//
//  1. finds every served namespaced resource that can be listed and
//     deleted, through discovery (preferred versions). A partial discovery
//     failure sets NamespaceDeletionDiscoveryFailure and the sync is retried:
//     the namespace is never finalized while some resource may be unknown;
//  2. deletes the pods first (upstream's ordered namespace deletion) and
//     the content of every other resource once no pod remains, with one
//     deletecollection per resource, or item by item through the metadata
//     client where deletecollection is not served;
//  3. lists each resource again: while content remains, it records
//     NamespaceContentRemaining and NamespaceFinalizersRemaining and looks
//     again later — after half the pods' remaining grace period, or after 8
//     seconds while objects wait for their finalizers — as upstream does;
//  4. once nothing remains, removes "kubernetes" from spec.finalizers
//     through the namespaces/finalize subresource; the apiserver then
//     deletes the namespace (when metadata.finalizers is empty too).
//
// The five conditions (NamespaceDeletionDiscoveryFailure,
// NamespaceDeletionGroupVersionParsingFailure,
// NamespaceDeletionContentFailure, NamespaceContentRemaining,
// NamespaceFinalizersRemaining) carry upstream's reasons and messages and
// are written through namespaces/status only when they change. A namespace
// that is not being deleted is never written.
package namespace
