package config

// Cluster is a kind v1alpha4 Cluster document. Every field kind defines is
// here, so a field kinc cannot honour yet is reported by name (Validate)
// instead of as "unknown".
type Cluster struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`

	// Name is the cluster name; default "kinc".
	Name string `json:"name,omitempty"`
	// Nodes are the cluster's nodes; default one control-plane.
	Nodes      []Node     `json:"nodes,omitempty"`
	Networking Networking `json:"networking,omitempty"`

	// FeatureGates and RuntimeConfig are not supported yet: an error.
	FeatureGates  map[string]bool   `json:"featureGates,omitempty"`
	RuntimeConfig map[string]string `json:"runtimeConfig,omitempty"`

	// KubeadmConfigPatches are YAML documents matched by kind (see
	// ParsePatches for what kinc maps them onto).
	KubeadmConfigPatches []string `json:"kubeadmConfigPatches,omitempty"`
	// KubeadmConfigPatchesJSON6902 is not supported: an error.
	KubeadmConfigPatchesJSON6902 []PatchJSON6902 `json:"kubeadmConfigPatchesJSON6902,omitempty"`

	// ContainerdConfigPatches are TOML documents merged into every node's
	// /etc/containerd/config.toml.
	ContainerdConfigPatches []string `json:"containerdConfigPatches,omitempty"`
	// ContainerdConfigPatchesJSON6902 is not supported: an error.
	ContainerdConfigPatchesJSON6902 []string `json:"containerdConfigPatchesJSON6902,omitempty"`

	// EncryptionAtRest is a kinc extension (apiVersion kinc.dev/v1alpha4
	// only; kind has no such field): when set, kinc generates a key and an
	// EncryptionConfiguration into the control plane's
	// /etc/kubernetes/pki/encryption-config.yaml and runs the apiserver with
	// --encryption-provider-config pointing at it.
	EncryptionAtRest *EncryptionAtRest `json:"encryptionAtRest,omitempty"`
}

// EncryptionAtRest chooses how kinc encrypts resources in etcd.
type EncryptionAtRest struct {
	// Provider is aescbc (default), aesgcm or secretbox.
	Provider string `json:"provider,omitempty"`
	// Resources are the resources encrypted, named as in an
	// EncryptionConfiguration ("secrets", "*.apps", "*.*"…); default
	// secrets.
	Resources []string `json:"resources,omitempty"`
}

// Node is one node container.
type Node struct {
	// Role is control-plane (default) or worker.
	Role NodeRole `json:"role,omitempty"`
	// Image is the node image; default the kinc/node image of this version.
	Image string `json:"image,omitempty"`
	// Labels become the node's labels (the kubelet's --node-labels).
	Labels map[string]string `json:"labels,omitempty"`

	ExtraMounts       []Mount       `json:"extraMounts,omitempty"`
	ExtraPortMappings []PortMapping `json:"extraPortMappings,omitempty"`

	// KubeadmConfigPatches apply to this node after the cluster's.
	KubeadmConfigPatches         []string        `json:"kubeadmConfigPatches,omitempty"`
	KubeadmConfigPatchesJSON6902 []PatchJSON6902 `json:"kubeadmConfigPatchesJSON6902,omitempty"`
}

// NodeRole is a node's role.
type NodeRole string

// The roles kind defines.
const (
	ControlPlaneRole NodeRole = "control-plane"
	WorkerRole       NodeRole = "worker"
)

// Networking is the cluster's network configuration.
type Networking struct {
	// IPFamily: only ipv4 is supported.
	IPFamily ClusterIPFamily `json:"ipFamily,omitempty"`
	// APIServerPort is the host port of the apiserver: 0 picks a free one,
	// -1 lets Docker pick.
	APIServerPort int32 `json:"apiServerPort,omitempty"`
	// APIServerAddress is the host address it is published on (127.0.0.1).
	APIServerAddress string `json:"apiServerAddress,omitempty"`
	PodSubnet        string `json:"podSubnet,omitempty"`
	ServiceSubnet    string `json:"serviceSubnet,omitempty"`
	// DisableDefaultCNI skips writing kinc's bridge CNI configuration.
	DisableDefaultCNI bool `json:"disableDefaultCNI,omitempty"`
	// KubeProxyMode: kinc runs no kube-proxy, so only "none" is accepted.
	KubeProxyMode ProxyMode `json:"kubeProxyMode,omitempty"`
	// DNSSearch is not supported yet: an error when set.
	DNSSearch *[]string `json:"dnsSearch,omitempty"`
}

// ClusterIPFamily is ipv4, ipv6 or dual.
type ClusterIPFamily string

// The IP families kind defines.
const (
	IPv4Family      ClusterIPFamily = "ipv4"
	IPv6Family      ClusterIPFamily = "ipv6"
	DualStackFamily ClusterIPFamily = "dual"
)

// ProxyMode is kube-proxy's mode.
type ProxyMode string

// NoneProxyMode means no kube-proxy, which is what kinc runs.
const NoneProxyMode ProxyMode = "none"

// Mount is a host path mounted into a node.
type Mount struct {
	ContainerPath  string           `json:"containerPath,omitempty"`
	HostPath       string           `json:"hostPath,omitempty"`
	ReadOnly       bool             `json:"readOnly,omitempty"`
	SelinuxRelabel bool             `json:"selinuxRelabel,omitempty"`
	Propagation    MountPropagation `json:"propagation,omitempty"`
}

// MountPropagation is None, HostToContainer or Bidirectional.
type MountPropagation string

// The propagation modes kind defines.
const (
	MountPropagationNone            MountPropagation = "None"
	MountPropagationHostToContainer MountPropagation = "HostToContainer"
	MountPropagationBidirectional   MountPropagation = "Bidirectional"
)

// PortMapping publishes a node port on the host.
type PortMapping struct {
	ContainerPort int32 `json:"containerPort,omitempty"`
	// HostPort 0 picks a free port; -1 lets Docker pick.
	HostPort      int32               `json:"hostPort,omitempty"`
	ListenAddress string              `json:"listenAddress,omitempty"`
	Protocol      PortMappingProtocol `json:"protocol,omitempty"`
}

// PortMappingProtocol is TCP, UDP or SCTP.
type PortMappingProtocol string

// The protocols kind defines.
const (
	PortMappingProtocolTCP  PortMappingProtocol = "TCP"
	PortMappingProtocolUDP  PortMappingProtocol = "UDP"
	PortMappingProtocolSCTP PortMappingProtocol = "SCTP"
)

// PatchJSON6902 is an RFC 6902 patch of a kubeadm object (not supported).
type PatchJSON6902 struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	Patch   string `json:"patch"`
}
