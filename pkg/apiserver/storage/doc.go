// Package storage is the contract between kinc's kube-apiserver and the store that
// keeps API objects: Interface (create, get, list, read-modify-write, delete, watch),
// its options, the typed errors every implementation returns, selection predicates,
// the Versioner that maps etcd revisions to metadata.resourceVersion, and the
// continue-token format of paged lists.
//
// The vocabulary follows upstream k8s.io/apiserver pkg/storage so that people who
// know kube-apiserver find their way: keys are paths such as "/pods/<ns>/<name>"
// (the implementation adds its own prefix, "/registry" by default),
// resourceVersion is the etcd revision of the last write, and a list's
// resourceVersion is the revision it was read at.
//
// Implementations: storage/etcd3 (directly over etcd) and storage/cacher (one shared
// etcd watch per resource, fanned out to any number of watchers, delegating
// everything else to another Interface), and storage/memory, the in-memory twin
// for hermetic tests. storage/storagetest holds the conformance suite all three
// run. ToStatusError maps the errors of this package to the
// metav1.Status errors the HTTP layer returns.
package storage
