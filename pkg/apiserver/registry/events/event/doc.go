// Package event holds the registry rules of events.k8s.io/v1 Events: the
// strict validation upstream applies to events written through this API
// (eventTime, reportingController, reportingInstance, action and reason
// required; deprecated fields unset; most fields immutable), on top of the
// legacy checks every event passes. Field paths are upstream's, which names
// the fields as the core/v1 Event does (message, involvedObject, ...).
package event
