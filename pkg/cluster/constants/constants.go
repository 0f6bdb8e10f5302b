// Package constants holds the names kinc shares between its cluster code and
// the node image: labels, roles and ports. Versions and image references
// (node image, component images) live in pkg/version.
package constants

// DefaultClusterName is the cluster name when neither --name,
// KINC_CLUSTER_NAME nor the config's name is set.
const DefaultClusterName = "kinc"

// ClusterNameEnv overrides the default cluster name (kind's KIND_CLUSTER_NAME).
const ClusterNameEnv = "KINC_CLUSTER_NAME"

// Docker labels on node containers; all cluster state lives in them.
const (
	ClusterLabelKey = "io.kinc.cluster"
	RoleLabelKey    = "io.kinc.role"
)

// Node roles.
const (
	ControlPlaneRole = "control-plane"
	WorkerRole       = "worker"
)

// NetworkName is the Docker network all kinc clusters share.
const NetworkName = "kinc"

// APIServerInternalPort is the apiserver's port inside a node.
const APIServerInternalPort = 6443
