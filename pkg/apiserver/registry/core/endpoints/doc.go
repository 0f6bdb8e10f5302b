// Package endpoints holds the registry rules of core/v1 Endpoints: port
// protocols default to TCP, and subsets, addresses and ports are validated
// as upstream does.
package endpoints
