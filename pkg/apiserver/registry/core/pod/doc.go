// Package pod holds the registry rules of core/v1 Pods: upstream's defaults
// and the defaults its admission plugins add (ServiceAccount, Priority,
// DefaultTolerationSeconds), create/update/status validation, graceful
// deletion, the binding subresource, and the selectable fields.
package pod
