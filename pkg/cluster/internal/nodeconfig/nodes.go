package nodeconfig

import (
	"errors"
	"fmt"
	"net"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
)

// Nodes describes the nodes of a defaulted, valid config, named names (in
// config order): role, labels and the node's patches (the cluster's, then
// its own); control planes of a cluster with workers are tainted. IPs and
// cgroup drivers are left for later. It fails when the pod subnet has
// fewer /24s than there are nodes: the node-ipam-controller gives each
// Node one, and a node without one would never run a pod.
func Nodes(cfg *config.Cluster, names []string) ([]Node, error) {
	if len(names) != len(cfg.Nodes) {
		return nil, fmt.Errorf("internal error: %d names for %d nodes", len(names), len(cfg.Nodes))
	}
	if err := checkPodSubnet(cfg.Networking.PodSubnet, len(cfg.Nodes)); err != nil {
		return nil, err
	}
	workers := false
	for _, n := range cfg.Nodes {
		workers = workers || n.Role == config.WorkerRole
	}
	out := make([]Node, len(cfg.Nodes))
	for i, n := range cfg.Nodes {
		docs := append(append([]string{}, cfg.KubeadmConfigPatches...), n.KubeadmConfigPatches...)
		patches, err := config.ParsePatches(docs)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", names[i], err)
		}
		out[i] = Node{Name: names[i], Role: n.Role, Labels: n.Labels, Patches: patches}
		if n.Role == config.ControlPlaneRole && workers {
			// As kubeadm marks a control plane and kind keeps the mark when
			// the cluster has workers: pods go to the workers.
			out[i].Taints = []string{ControlPlaneTaint}
		}
	}
	return out, nil
}

// NodeCIDRMaskSize is the prefix length of the pod range the
// kube-controller-manager gives each node (its --node-cidr-mask-size
// default for IPv4).
const NodeCIDRMaskSize = 24

// checkPodSubnet fails when podSubnet (IPv4) holds fewer node CIDRs than
// nodes.
func checkPodSubnet(podSubnet string, nodes int) error {
	_, n, err := net.ParseCIDR(podSubnet)
	if err != nil {
		return fmt.Errorf("pod subnet: %w", err)
	}
	ones, _ := n.Mask.Size()
	if n.IP.To4() == nil || ones > NodeCIDRMaskSize || nodes > 1<<(NodeCIDRMaskSize-ones) {
		return fmt.Errorf("pod subnet %s has no /%d for each of the %d nodes", podSubnet, NodeCIDRMaskSize, nodes)
	}
	return nil
}

// Check renders every file of every node with placeholder addresses, so a
// config kinc's kubelet or control plane would reject fails before anything
// is created.
func Check(cfg *config.Cluster, nodes []Node) error {
	var errs []error
	for i, n := range nodes {
		n.IP = fmt.Sprintf("10.255.255.%d", i+1)
		if _, err := KubeletConfig(cfg, n); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
		}
		if n.Role == config.ControlPlaneRole {
			if _, err := StaticPods(cfg, n); err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
			}
		}
	}
	return errors.Join(errs...)
}
