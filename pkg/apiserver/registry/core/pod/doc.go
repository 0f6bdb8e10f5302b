// Package pod holds the registry rules of core/v1 Pods: upstream's defaults
// and the defaults two of its admission plugins add (Priority,
// DefaultTolerationSeconds), create/update/status validation, graceful
// deletion, the binding subresource, and the selectable fields.
package pod
