// Package storagetest is the conformance suite of storage.Interface, written once
// and run against every implementation (etcd3, memory, and the cacher over either), plus
// RunEtcd, an in-process etcd for integration tests.
//
// Each RunTestXxx function takes a Factory that returns a fresh, empty store of
// pods (corev1.Pod under keys "/pods/<namespace>/<name>") for each subtest. The
// suite compacts etcd in some subtests, so the stores of one Factory must not be
// shared with concurrently running tests.
package storagetest
