// Package cluster is kinc's public library API, the one the CLI wraps:
// Provider creates, lists and deletes clusters whose nodes are containers,
// and gets their kubeconfig, logs and images in. Everything it does lives
// under pkg/cluster/internal.
package cluster
