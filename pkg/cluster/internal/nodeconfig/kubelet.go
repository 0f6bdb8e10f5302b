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
	CNIConfigPath     = "/etc/cni/net.d/10-kinc.conflist"
	CRISocket         = "unix:///run/containerd/containerd.sock"
	// CgroupDriverPath is where the node image's kinc-node-setup records
	// the cgroup driver matching containerd's at boot.
	CgroupDriverPath = "/run/kinc/cgroup-driver"
)

// Node describes one node for rendering.
type Node struct {
	Name         string
	Role         config.NodeRole
	IP           string
	PodCIDR      string
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

// PodCIDR returns the i-th /24 of podSubnet, the pod range of the i-th node.
func PodCIDR(podSubnet string, i int) (string, error) {
	_, n, err := net.ParseCIDR(podSubnet)
	if err != nil {
		return "", fmt.Errorf("pod subnet: %w", err)
	}
	ones, _ := n.Mask.Size()
	ip := n.IP.To4()
	if ip == nil || ones > 24 || i < 0 || i >= 1<<(24-ones) {
		return "", fmt.Errorf("pod subnet %s has no /24 number %d", podSubnet, i)
	}
	v := uint32(ip[0])<<24 | uint32(ip[1])<<16 | uint32(ip[2])<<8
	v += uint32(i) << 8
	return fmt.Sprintf("%d.%d.%d.0/24", v>>24, byte(v>>16), byte(v>>8)), nil
}

// KubeletConfig renders the node's KubeletConfiguration: kinc's settings,
// then the KubeletConfiguration patches merged in order. The result is
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
			"x509":      map[string]any{"clientCAFile": "/etc/kubernetes/pki/ca.crt"},
		},
		"authorization":            map[string]any{"mode": "Webhook"},
		"cgroupDriver":             driver,
		"clusterDNS":               []string{dns},
		"clusterDomain":            "cluster.local",
		"containerRuntimeEndpoint": CRISocket,
		"healthzBindAddress":       "127.0.0.1",
		"healthzPort":              10248,
		"podCIDR":                  n.PodCIDR,
		"staticPodPath":            ManifestsDir,
		"tlsCertFile":              "/var/lib/kubelet/pki/kubelet.crt",
		"tlsPrivateKeyFile":        "/var/lib/kubelet/pki/kubelet.key",
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

// NodeLabels returns the --node-labels value: the role label of a
// control-plane node, the config's labels and the patches' node-labels,
// sorted by key.
func NodeLabels(n Node) string {
	labels := map[string]string{}
	if n.Role == config.ControlPlaneRole {
		labels["node-role.kubernetes.io/control-plane"] = ""
	}
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
// outgoing traffic kinc-node routes masquerades.
func PodRoutesEnv(podSubnet string) []byte {
	return []byte(fmt.Sprintf("KINC_ROUTES_ARGS=%q\n", "--pod-subnet="+podSubnet))
}

// CNIConfig renders the default CNI configuration: a bridge with
// host-local addresses from the node's pod range, plus portmap for
// hostPort. Debian's containernetworking-plugins provide the plugins.
func CNIConfig(podCIDR string) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "kinc",
		"plugins": []any{
			map[string]any{
				// No ipMasq: the bridge plugin would masquerade traffic to
				// other nodes' pods too. kinc-routes masquerades only what
				// leaves the cluster's pod subnet.
				"type": "bridge", "bridge": "kinc0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": [][]map[string]string{{{"subnet": podCIDR}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	return json.MarshalIndent(conf, "", "  ")
}
