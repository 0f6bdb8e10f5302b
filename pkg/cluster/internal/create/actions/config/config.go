// Package config is the step that writes each node's configuration: the
// kubelet's config.yaml and kubeadm-flags.env, the kinc-routes service of
// the default CNI (kinc-node routes: routes to the other nodes' pod ranges,
// and the node's CNI configuration written once the
// kube-controller-manager's node-ipam-controller gave the Node its pod
// range, as kindnetd does in kind), and containerdConfigPatches
// (containerd is then restarted).
package config

import (
	"bytes"
	"context"
	"fmt"

	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/nodeconfig"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/tomlpatch"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/cluster/nodeutils"
)

// containerdConfigs are the files containerdConfigPatches are merged into:
// the live config and the per-cgroup-driver variants the node image's
// kinc-node-setup copies over it at every boot.
var containerdConfigs = [...]string{
	"/etc/containerd/config.toml",
	"/etc/containerd/config-cgroupfs.toml",
	"/etc/containerd/config-systemd.toml",
}

// podRoutesUnit is the node image's service keeping the routes to the
// other nodes' pod ranges (kinc-node routes).
const podRoutesUnit = "kinc-routes.service"

type action struct{}

// NewAction returns the step.
func NewAction() actions.Action { return action{} }

// Execute implements actions.Action.
func (action) Execute(ctx context.Context, actx *actions.ActionContext) error {
	actx.Status.Start("Writing configuration 📜")
	return actions.ForEachNode(actx.Nodes, func(i int, n nodes.Node) error {
		nc := actx.NodeConfigs[i]
		files, err := Files(actx, nc)
		if err != nil {
			return fmt.Errorf("node %s: %w", n, err)
		}
		if err := nodeutils.WriteFiles(ctx, n, files); err != nil {
			return err
		}
		// kubeadm leaves an empty manifests directory on workers too: the
		// kubelet's staticPodPath.
		if err := n.CommandContext(ctx, "mkdir", "-p", nodeconfig.ManifestsDir).Run(); err != nil {
			return fmt.Errorf("create %s on %s: %w", nodeconfig.ManifestsDir, n, err)
		}
		if !actx.Config.Networking.DisableDefaultCNI {
			if err := startPodRoutes(ctx, n); err != nil {
				return err
			}
		}
		if len(actx.Config.ContainerdConfigPatches) > 0 {
			return patchContainerd(ctx, n, actx.Config.ContainerdConfigPatches)
		}
		return nil
	})
}

// Files renders a node's kubelet config and flags, and with the default
// CNI kinc-routes' environment. No CNI config: kinc-node writes it from the
// Node's spec.podCIDR; until then the node is NotReady and runs only
// host-network pods.
func Files(actx *actions.ActionContext, nc nodeconfig.Node) ([]nodeutils.File, error) {
	kubelet, err := nodeconfig.KubeletConfig(actx.Config, nc)
	if err != nil {
		return nil, err
	}
	files := []nodeutils.File{
		{Path: nodeconfig.KubeletConfigPath, Mode: 0o644, Data: kubelet},
		{Path: nodeconfig.KubeletFlagsPath, Mode: 0o644, Data: nodeconfig.KubeletFlags(nc)},
	}
	if !actx.Config.Networking.DisableDefaultCNI {
		files = append(files,
			nodeutils.File{Path: nodeconfig.PodRoutesEnvPath, Mode: 0o644, Data: nodeconfig.PodRoutesEnv(actx.Config.Networking.PodSubnet)})
	}
	return files, nil
}

// startPodRoutes enables the node image's kinc-routes service, which routes
// the other nodes' pod ranges through them and follows their addresses
// across restarts, and writes the node's CNI configuration (what kindnetd
// does in kind).
func startPodRoutes(ctx context.Context, n nodes.Node) error {
	// Without the CNI configuration no pod ever starts: refuse an image
	// whose kinc-node predates writing it.
	var help bytes.Buffer
	if err := n.CommandContext(ctx, "/usr/local/bin/kinc-node", "routes", "--help").SetStdout(&help).Run(); err != nil ||
		!bytes.Contains(help.Bytes(), []byte("--cni-config")) {
		return fmt.Errorf("the node image of %s is older than this kinc: its kinc-node does not write the CNI configuration, so no pod would start: rebuild it with `kinc build node-image`", n)
	}
	if err := n.CommandContext(ctx, "systemctl", "enable", "--now", "--quiet", podRoutesUnit).Run(); err != nil {
		return fmt.Errorf("start %s on %s (a node image older than this kinc lacks it: rebuild it with `kinc build node-image`): %w",
			podRoutesUnit, n, err)
	}
	return nil
}

func patchContainerd(ctx context.Context, n nodes.Node, patches []string) error {
	var files []nodeutils.File
	for _, path := range containerdConfigs {
		var out bytes.Buffer
		if err := n.CommandContext(ctx, "cat", path).SetStdout(&out).Run(); err != nil {
			if path == containerdConfigs[0] {
				return fmt.Errorf("read containerd config of %s: %w", n, err)
			}
			continue // an image without per-driver variants
		}
		merged, err := tomlpatch.Merge(out.String(), patches...)
		if err != nil {
			return fmt.Errorf("containerdConfigPatches on %s:%s: %w", n, path, err)
		}
		files = append(files, nodeutils.File{Path: path, Mode: 0o644, Data: []byte(merged)})
	}
	if err := nodeutils.WriteFiles(ctx, n, files); err != nil {
		return err
	}
	if err := n.CommandContext(ctx, "systemctl", "restart", "containerd").Run(); err != nil {
		return fmt.Errorf("restart containerd on %s after containerdConfigPatches: %w", n, err)
	}
	return nil
}
