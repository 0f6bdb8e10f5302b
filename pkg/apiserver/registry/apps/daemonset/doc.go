// Package daemonset holds the registry rules of apps/v1 DaemonSets:
// updateStrategy RollingUpdate (maxUnavailable 1, maxSurge 0) and
// revisionHistoryLimit 10 by default, pod template defaults and validation,
// an immutable selector, metadata.generation, and the status subresource.
package daemonset
