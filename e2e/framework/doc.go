//go:build e2e

// Package framework holds what the e2e packages share: a Docker client that
// must answer, the node image to test, the busybox workload image built
// without a registry, the real kubectl, and the lock around node stops. A
// missing part (engine, image, busybox, kubectl) skips the test saying what
// to do, and fails it under CI=true (internal/testenv).
package framework
