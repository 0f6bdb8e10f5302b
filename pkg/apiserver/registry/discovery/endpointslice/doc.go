// Package endpointslice holds the registry rules of discovery.k8s.io/v1
// EndpointSlices, what the endpointslice controller writes and kube-proxy
// and CoreDNS read: port names and protocols defaulted, an immutable
// addressType, upstream's limits (1000 endpoints, 100 addresses each,
// 20000 ports, 16 topology labels, 8 zone and 8 node hints) and address
// checks per address type, deprecatedTopology dropped on v1 writes, and
// metadata.generation.
package endpointslice
