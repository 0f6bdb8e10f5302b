// Package statefulset holds the registry rules of apps/v1 StatefulSets:
// upstream's defaults (replicas 1, podManagementPolicy OrderedReady,
// updateStrategy RollingUpdate with partition 0, PVC retention Retain,
// revisionHistoryLimit 10, pod template and claim template defaults),
// DNS-label names, validation, the fields an update may change,
// metadata.generation, and the status subresource.
package statefulset
