// Package controllerrevision holds the registry rules of apps/v1
// ControllerRevisions, the immutable snapshots of a DaemonSet's or
// StatefulSet's template their controllers keep for rollouts and rollbacks:
// data must be a JSON object and never changes, revision is non-negative
// (and may change: a rollback renumbers an existing revision).
package controllerrevision
