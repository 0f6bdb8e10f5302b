// Package replicaset holds the registry rules of apps/v1 ReplicaSets:
// replicas default 1, pod template defaults and validation, an immutable
// selector, metadata.generation, the status subresource, and the
// status.replicas selectable field.
package replicaset
