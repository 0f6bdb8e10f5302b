//go:build e2e

// Package framework holds what the e2e packages share: a Docker client that
// must answer, the node image to test, the busybox workload image built
// without a registry, and the lock around node stops.
package framework
