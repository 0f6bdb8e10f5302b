package kubeconfig

import (
	"errors"
	"fmt"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Retarget returns a new kubeconfig made of cfg's current context: its
// cluster, user and context, all renamed name, with the cluster's server
// replaced by server. It turns a node's admin.conf (server
// https://<cluster>-control-plane:6443, kubeadm names) into the entry kinc
// merges into the user's kubeconfig (server https://127.0.0.1:<port>, names
// kinc-<cluster>). cfg is not modified.
func Retarget(cfg *clientcmdapi.Config, server, name string) (*clientcmdapi.Config, error) {
	if cfg == nil {
		return nil, errors.New("retarget kubeconfig: config is nil")
	}
	if name == "" {
		return nil, errors.New("retarget kubeconfig: name is empty")
	}
	ctx, ok := cfg.Contexts[cfg.CurrentContext]
	if !ok {
		return nil, fmt.Errorf("retarget kubeconfig: current context %q not found", cfg.CurrentContext)
	}
	cluster, ok := cfg.Clusters[ctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("retarget kubeconfig: cluster %q not found", ctx.Cluster)
	}
	user, ok := cfg.AuthInfos[ctx.AuthInfo]
	if !ok {
		return nil, fmt.Errorf("retarget kubeconfig: user %q not found", ctx.AuthInfo)
	}
	out := clientcmdapi.NewConfig()
	c := cluster.DeepCopy()
	if server != "" {
		c.Server = server
	}
	out.Clusters[name] = c
	out.AuthInfos[name] = user.DeepCopy()
	x := ctx.DeepCopy()
	x.Cluster, x.AuthInfo = name, name
	out.Contexts[name] = x
	out.CurrentContext = name
	return out, nil
}
