// Package pki is the step that generates the cluster's certificates on the
// host (pkg/pki) and lays them into each node as kubeadm does:
// /etc/kubernetes/{pki/…,*.conf} and /var/lib/kubelet/pki/kubelet.{crt,key};
// with the cluster config's encryptionAtRest, also the control plane's
// EncryptionConfiguration with a new key.
package pki

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path"
	"strings"

	"github.com/kinc-dev/kinc/pkg/apiserver/encryption"
	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/nodeconfig"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/cluster/nodeutils"
	"github.com/kinc-dev/kinc/pkg/pki"
)

type action struct{}

// NewAction returns the step.
func NewAction() actions.Action { return action{} }

// Execute implements actions.Action.
func (action) Execute(ctx context.Context, actx *actions.ActionContext) error {
	actx.Status.Start("Generating certificates 🔐")
	if err := discover(ctx, actx); err != nil {
		return err
	}
	opts := pki.ClusterOptions{
		ClusterName: actx.Config.Name,
		ServiceCIDR: actx.Config.Networking.ServiceSubnet,
		HostAddress: actx.Config.Networking.APIServerAddress,
	}
	for _, nc := range actx.NodeConfigs {
		info := pki.NodeInfo{Name: nc.Name, IPs: []net.IP{net.ParseIP(nc.IP)}}
		if nc.Role == constants.ControlPlaneRole {
			opts.ControlPlanes = append(opts.ControlPlanes, info)
			if nc.Patches != nil {
				opts.CertSANs = append(opts.CertSANs, nc.Patches.CertSANs...)
			}
		} else {
			opts.Workers = append(opts.Workers, info)
		}
	}
	tree, err := pki.GenerateClusterPKI(opts)
	if err != nil {
		return err
	}
	actx.PKI = tree
	encrypt, err := EncryptionFiles(actx.Config)
	if err != nil {
		return err
	}
	return actions.ForEachNode(actx.Nodes, func(i int, n nodes.Node) error {
		files, err := Files(tree, n.String())
		if err != nil {
			return err
		}
		if actx.NodeConfigs[i].Role == constants.ControlPlaneRole {
			files = append(files, encrypt...)
		}
		return nodeutils.WriteFiles(ctx, n, files)
	})
}

// EncryptionFiles returns the control plane's EncryptionConfiguration (at
// nodeconfig.EncryptionConfigPath, readable by root only) with a new key
// when cfg asks for encryption at rest, else nothing.
func EncryptionFiles(cfg *config.Cluster) ([]nodeutils.File, error) {
	e := cfg.EncryptionAtRest
	if e == nil {
		return nil, nil
	}
	data, err := encryption.GenerateConfig(e.Provider, e.Resources)
	if err != nil {
		return nil, fmt.Errorf("encryptionAtRest: %w", err)
	}
	return []nodeutils.File{{Path: nodeconfig.EncryptionConfigPath, Mode: 0o600, Data: data}}, nil
}

// discover fills in each node's IP and cgroup driver.
func discover(ctx context.Context, actx *actions.ActionContext) error {
	if len(actx.NodeConfigs) != len(actx.Nodes) {
		return fmt.Errorf("internal error: %d node configs for %d nodes", len(actx.NodeConfigs), len(actx.Nodes))
	}
	return actions.ForEachNode(actx.Nodes, func(i int, n nodes.Node) error {
		ip, err := n.IP(ctx)
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := n.CommandContext(ctx, "cat", nodeconfig.CgroupDriverPath).SetStdout(&out).Run(); err != nil {
			return fmt.Errorf("read the cgroup driver of %s (written by the node image's kinc-node-setup): %w", n, err)
		}
		actx.NodeConfigs[i].IP = ip
		actx.NodeConfigs[i].CgroupDriver = strings.TrimSpace(out.String())
		return nil
	})
}

// Files returns a node's certificate and kubeconfig files at their absolute
// paths.
func Files(tree *pki.ClusterPKI, node string) ([]nodeutils.File, error) {
	k8s, err := tree.KubernetesFiles(node)
	if err != nil {
		return nil, err
	}
	kubelet, err := tree.KubeletFiles(node)
	if err != nil {
		return nil, err
	}
	var out []nodeutils.File
	for _, f := range k8s {
		out = append(out, nodeutils.File{Path: path.Join(pki.KubernetesDir, f.Path), Mode: f.Mode, Data: f.Data})
	}
	for _, f := range kubelet {
		out = append(out, nodeutils.File{Path: path.Join(pki.KubeletDir, f.Path), Mode: f.Mode, Data: f.Data})
	}
	return out, nil
}
