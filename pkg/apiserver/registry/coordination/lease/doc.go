// Package lease holds the registry rules of coordination.k8s.io/v1 Leases
// (node heartbeats, leader election): positive durations, non-negative
// transitions, and the coordinated-leader-election strategy fields.
package lease
