// Package constants holds the names kinc shares between its cluster code and
// the node image: labels, roles, ports and default images.
package constants

import "strings"

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

// ImageRepository is the repository of node images (pkg/build/nodeimage
// builds kinc/node:<version>).
const ImageRepository = "kinc/node"

// Component images: built from our binaries and preloaded into every node by
// the node image (pkg/build/nodeimage uses the same references).
const (
	KubernetesVersion = "v1.37.2"
	APIServerImage    = "registry.k8s.io/kube-apiserver:" + KubernetesVersion
	SchedulerImage    = "registry.k8s.io/kube-scheduler:" + KubernetesVersion
	EtcdImage         = "registry.k8s.io/etcd:3.7.3-0"
	PauseImage        = "registry.k8s.io/pause:3.10"
)

// NodeImage returns the default node image for a kinc version, as
// pkg/build/nodeimage names it: characters a tag cannot hold become '-'.
func NodeImage(kincVersion string) string {
	tag := strings.Map(func(r rune) rune {
		if r == '_' || r == '.' || r == '-' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, kincVersion)
	if len(tag) > 128 {
		tag = tag[:128]
	}
	return ImageRepository + ":" + tag
}
