// Package event holds the registry rules of core/v1 Events, which get
// upstream's legacy (v1) validation only, and their selectable fields
// (involvedObject.*, reason, reportingComponent, source, type) used by
// `kubectl describe`.
package event
