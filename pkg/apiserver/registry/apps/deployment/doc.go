// Package deployment holds the registry rules of apps/v1 Deployments:
// upstream's defaults (replicas 1, RollingUpdate 25%/25%,
// revisionHistoryLimit 10, progressDeadlineSeconds 600, pod template
// defaults), validation, an immutable selector, metadata.generation, and
// the status subresource.
package deployment
