package config

import (
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
)

// Defaults of fields left empty.
const (
	DefaultAPIServerAddress = "127.0.0.1"
	DefaultPodSubnet        = "10.244.0.0/16"
	DefaultServiceSubnet    = "10.96.0.0/16"
)

// SetDefaults fills empty fields: name kinc, one control-plane node, the
// given node image on nodes without one, IPv4 networking on 127.0.0.1 with
// kind's subnets, TCP and 0.0.0.0 for port mappings, None propagation.
func SetDefaults(c *Cluster, nodeImage string) {
	if c.Kind == "" {
		c.Kind = Kind
	}
	if c.APIVersion == "" {
		c.APIVersion = APIVersion
	}
	if c.Name == "" {
		c.Name = constants.DefaultClusterName
	}
	if len(c.Nodes) == 0 {
		c.Nodes = []Node{{Role: ControlPlaneRole}}
	}
	n := &c.Networking
	if n.IPFamily == "" {
		n.IPFamily = IPv4Family
	}
	if n.APIServerAddress == "" {
		n.APIServerAddress = DefaultAPIServerAddress
	}
	if n.PodSubnet == "" {
		n.PodSubnet = DefaultPodSubnet
	}
	if n.ServiceSubnet == "" {
		n.ServiceSubnet = DefaultServiceSubnet
	}
	for i := range c.Nodes {
		node := &c.Nodes[i]
		if node.Role == "" {
			node.Role = ControlPlaneRole
		}
		if node.Image == "" {
			node.Image = nodeImage
		}
		for j := range node.ExtraMounts {
			if node.ExtraMounts[j].Propagation == "" {
				node.ExtraMounts[j].Propagation = MountPropagationNone
			}
		}
		for j := range node.ExtraPortMappings {
			pm := &node.ExtraPortMappings[j]
			if pm.Protocol == "" {
				pm.Protocol = PortMappingProtocolTCP
			}
			if pm.ListenAddress == "" {
				pm.ListenAddress = "0.0.0.0"
			}
		}
	}
}
