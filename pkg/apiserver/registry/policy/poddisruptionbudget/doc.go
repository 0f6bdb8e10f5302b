// Package poddisruptionbudget holds the registry rules of policy/v1
// PodDisruptionBudgets: minAvailable and maxUnavailable not both set, each
// a non-negative integer or a percentage up to 100%, a valid selector, a
// known unhealthyPodEvictionPolicy, metadata.generation, and the status
// subresource the disruption controller writes (non-negative counts, valid
// conditions).
package poddisruptionbudget
