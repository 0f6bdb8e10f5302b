// Package kubeconfig gets a cluster's admin kubeconfig from its
// control-plane node and adds it to, or removes it from, the user's
// kubeconfig files (pkg/pki/kubeconfig does the locked merge).
package kubeconfig

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers"
	"github.com/kinc-dev/kinc/pkg/cluster/nodeutils"
	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
)

// Get returns the kubeconfig of cluster name: the admin.conf of its
// control-plane node, with cluster, user and context named kinc-<name>,
// reaching the apiserver through the host's published port, or with
// internal at <name>-control-plane:6443 on the kinc network.
func Get(ctx context.Context, p providers.Provider, name string, internal bool) (*clientcmdapi.Config, error) {
	list, err := p.ListNodes(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("unknown cluster %q", name)
	}
	cp, err := nodeutils.ControlPlane(list)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	path := filepath.Join(pki.KubernetesDir, pki.AdminConf)
	if err := cp.CommandContext(ctx, "cat", path).SetStdout(&out).Run(); err != nil {
		return nil, fmt.Errorf("read %s from %s: %w", path, cp, err)
	}
	admin, err := kubeconfig.Parse(out.Bytes())
	if err != nil {
		return nil, err
	}
	server := "https://" + cp.String() + ":" + strconv.Itoa(constants.APIServerInternalPort)
	if !internal {
		endpoint, err := p.APIServerEndpoint(ctx, name)
		if err != nil {
			return nil, err
		}
		server = "https://" + endpoint
	}
	return kubeconfig.Retarget(admin, server, kubeconfig.ContextName(name))
}

// Export merges cluster name's kubeconfig into the file at path and makes
// its context current.
func Export(ctx context.Context, p providers.Provider, name, path string, internal bool) error {
	cfg, err := Get(ctx, p, name, internal)
	if err != nil {
		return err
	}
	if err := kubeconfig.Merge(path, cfg, true); err != nil {
		return fmt.Errorf("export kubeconfig to %s: %w", path, err)
	}
	return nil
}

// Remove deletes cluster name's entries from every file in paths.
func Remove(name string, paths []string) error {
	for _, path := range paths {
		if err := kubeconfig.Remove(path, kubeconfig.ContextName(name)); err != nil {
			return fmt.Errorf("remove cluster %q from kubeconfig %s: %w", name, path, err)
		}
	}
	return nil
}

// Paths returns the kubeconfig files a delete cleans: explicit alone when
// set, else every $KUBECONFIG entry and the default ~/.kube/config.
func Paths(explicit string, getenv func(string) string, homeDir func() (string, error)) []string {
	if explicit != "" {
		return []string{explicit}
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range filepath.SplitList(getenv(kubeconfig.RecommendedEnvVar)) {
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if home, err := homeDir(); err == nil && home != "" {
		if p := filepath.Join(home, ".kube", "config"); !seen[p] {
			out = append(out, p)
		}
	}
	return out
}
