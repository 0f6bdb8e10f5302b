// Package node holds the registry rules of core/v1 Nodes (cluster-scoped):
// status accepted on create (the kubelet registers with it), allocatable
// defaulted from capacity, taint and podCIDR validation, the status
// subresource and the spec.unschedulable selectable field.
package node
