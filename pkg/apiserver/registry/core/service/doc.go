// Package service holds the registry rules of core/v1 Services: upstream's
// defaults and validation, the normalization of clusterIP/clusterIPs and of
// fields that stop applying when the type changes, and the allocators of
// cluster IPs (from the service CIDR) and node ports (30000-32767) that the
// store calls around create, update and delete.
package service
