// Package common holds what every provider shares: how nodes are named.
package common

import (
	"strconv"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
)

// NodeNames returns the container names of a cluster's nodes, in config
// order: <cluster>-<role> for the first of a role, then <cluster>-<role>N
// from 2 (kind-control-plane, kind-worker, kind-worker2, …).
func NodeNames(cfg *config.Cluster) []string {
	count := map[config.NodeRole]int{}
	names := make([]string, len(cfg.Nodes))
	for i, n := range cfg.Nodes {
		count[n.Role]++
		suffix := ""
		if c := count[n.Role]; c > 1 {
			suffix = strconv.Itoa(c)
		}
		names[i] = cfg.Name + "-" + string(n.Role) + suffix
	}
	return names
}
