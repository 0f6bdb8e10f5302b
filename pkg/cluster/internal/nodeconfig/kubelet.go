package nodeconfig

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
)

// Paths on a node.
const (
	KubeletConfigPath = "/var/lib/kubelet/config.yaml"
	KubeletFlagsPath  = "/var/lib/kubelet/kubeadm-flags.env"
	ManifestsDir      = "/etc/kubernetes/manifests"
	CRISocket         = "unix:///run/containerd/containerd.sock"
	// CgroupDriverPath is where the node image's kinc-node-setup records
	// the cgroup driver matching containerd's at boot.
	CgroupDriverPath = "/run/kinc/cgroup-driver"
)

// Node describes one node for rendering. It has no pod range: as in a
// kubeadm cluster, the kube-controller-manager's node-ipam-controller gives
// the registered Node its spec.podCIDR, from which kinc-node writes the
// CNI configuration (pkg/nodeagent/cniconfig).
type Node struct {
	Name         string
	Role         config.NodeRole
	IP           string
	CgroupDriver string // "cgroupfs" or "systemd"; empty: cgroupfs
	// Labels are the node's labels, from the config and patches.
	Labels map[string]string
	// Patches are the node's kubeadmConfigPatches after the cluster's.
	Patches *config.Patches
	// Taints are the node's taints (key=value:Effect), registered by its
	// kubelet.
	Taints []string
}

// ControlPlaneTaint is the taint kubeadm gives control-plane nodes.
const ControlPlaneTaint = "node-role.kubernetes.io/control-plane:NoSchedule"

// ClusterDNS returns the cluster DNS service IP: the tenth address of the
// service subnet, as kubeadm picks it (10.96.0.10).
func ClusterDNS(serviceSubnet string) (string, error) {
	_, n, err := net.ParseCIDR(serviceSubnet)
	if err != nil {
		return "", fmt.Errorf("service subnet: %w", err)
	}
	ip := n.IP.To4()
	if ip == nil {
		return "", fmt.Errorf("service subnet %s is not IPv4", serviceSubnet)
	}
	out := append(net.IP(nil), ip...)
	out[3] += 10
	return out.String(), nil
}

// KubeletConfig renders the node's KubeletConfiguration: kinc's settings
// (as kind's kubeadm config, without podCIDR: the Node gets its range from
// the node-ipam-controller), then the KubeletConfiguration patches merged in
// order. The result is
// checked with the kubelet's own strict parser, so a field kinc's kubelet
// does not implement is an error naming it.
func KubeletConfig(cfg *config.Cluster, n Node) ([]byte, error) {
	dns, err := ClusterDNS(cfg.Networking.ServiceSubnet)
	if err != nil {
		return nil, err
	}
	driver := n.CgroupDriver
	if driver == "" {
		driver = "cgroupfs"
	}
	base := map[string]any{
		"apiVersion": kubeletconfig.APIVersion,
		"kind":       kubeletconfig.Kind,
		"authentication": map[string]any{
			"anonymous": map[string]any{"enabled": false},
			"webhook":   map[string]any{"enabled": true, "cacheTTL": "0s"},
			"x509":      map[string]any{"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
		},
		"authorization": map[string]any{"mode": "Webhook",
			"webhook": map[string]any{"cacheAuthorizedTTL": "0s", "cacheUnauthorizedTTL": "0s"}},
		"cgroupDriver":             driver,
		"rotateCertificates":       true,
		"clusterDNS":               []string{dns},
		"clusterDomain":            "cluster.local",
		"containerRuntimeEndpoint": CRISocket,
		"healthzBindAddress":       "127.0.0.1",
		"healthzPort":              10248,
		"staticPodPath":            ManifestsDir,
		"tlsCertFile":              "/var/lib/kubelet/pki/kubelet.crt",
		"tlsPrivateKeyFile":        "/var/lib/kubelet/pki/kubelet.key",
		// kind's kubeadm config: a developer's nearly full disk must not
		// taint every node with disk-pressure.
		"evictionHard": map[string]string{"nodefs.available": "0%", "nodefs.inodesFree": "0%", "imagefs.available": "0%"},
	}
	doc, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	if n.Patches != nil {
		for _, p := range n.Patches.Kubelet {
			if doc, err = jsonpatch.MergePatch(doc, p); err != nil {
				return nil, fmt.Errorf("apply KubeletConfiguration patch: %w", err)
			}
		}
	}
	out, err := yaml.JSONToYAML(doc)
	if err != nil {
		return nil, err
	}
	if _, err := kubeletconfig.Parse(out); err != nil {
		return nil, fmt.Errorf("KubeletConfiguration (after kubeadmConfigPatches) is refused by kinc's kubelet: %w", err)
	}
	return out, nil
}

// KubeletFlags renders kubeadm-flags.env: the flags kubeadm writes that
// are node-specific, sorted.
func KubeletFlags(n Node) []byte {
	flags := []string{
		"--container-runtime-endpoint=" + CRISocket,
		"--node-ip=" + n.IP,
	}
	if labels := NodeLabels(n); labels != "" {
		flags = append(flags, "--node-labels="+labels)
	}
	if len(n.Taints) > 0 {
		flags = append(flags, "--register-with-taints="+strings.Join(n.Taints, ","))
	}
	sort.Strings(flags)
	return []byte(fmt.Sprintf("KUBELET_KUBEADM_ARGS=%q\n", strings.Join(flags, " ")))
}

// ControlPlaneLabels are the labels kubeadm's mark-control-plane phase
// gives a control-plane Node through the API once it registered: the
// kubelet may not set node-role.kubernetes.io/* itself (NodeRestriction
// refuses it).
var ControlPlaneLabels = map[string]string{
	"node-role.kubernetes.io/control-plane":                   "",
	"node.kubernetes.io/exclude-from-external-load-balancers": "",
}

// NodeLabels returns the --node-labels value: the config's labels and the
// patches' node-labels, sorted by key. A control-plane node's role label is
// not among them (see ControlPlaneLabels).
func NodeLabels(n Node) string {
	labels := map[string]string{}
	for k, v := range n.Labels {
		labels[k] = v
	}
	if n.Patches != nil {
		extra := n.Patches.JoinNodeLabels
		if n.Role == config.ControlPlaneRole {
			extra = n.Patches.InitNodeLabels
		}
		for k, v := range extra {
			labels[k] = v
		}
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}

// PodRoutesEnvPath is kinc-routes.service's EnvironmentFile.
const PodRoutesEnvPath = "/etc/default/kinc-routes"

// PodRoutesEnv renders PodRoutesEnvPath: the cluster's pod subnet, whose
// outgoing traffic kinc-node routes masquerades. kinc-node routes also
// writes the CNI configuration (its --cni-config default,
// /etc/cni/net.d/10-kinc.conflist) once the Node has its pod range.
func PodRoutesEnv(podSubnet string) []byte {
	return []byte(fmt.Sprintf("KINC_ROUTES_ARGS=%q\n", "--pod-subnet="+podSubnet))
}
