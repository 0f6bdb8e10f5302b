// Package controlplane is the step that starts Kubernetes: it writes the
// static pods into the control-plane node, starts the control planes'
// kubelets (systemd), waits until the apiserver answers /readyz through the
// port published on the host, creates kubeadm's RBAC objects with
// super-admin.conf's identity (kubeadm:cluster-admins, which admin.conf
// needs once RBAC is on, first), waits until the control planes' Nodes are
// registered, then starts the workers' kubelets: as kubeadm join follows kubeadm init,
// so that the node-ipam-controller, which gives pod ranges in registration
// order, gives the first control plane the pod subnet's first /24 as in
// kind.
package controlplane

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/kinc-dev/kinc/manifests"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/kubeapply"
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
	actx.Status.Start("Starting control-plane 🕹️")
	for i, n := range actx.Nodes {
		if n.Role() != constants.ControlPlaneRole {
			continue
		}
		pods, err := nodeconfig.StaticPods(actx.Config, actx.NodeConfigs[i])
		if err != nil {
			return err
		}
		files := make([]nodeutils.File, len(pods))
		for j, p := range pods {
			files[j] = nodeutils.File{Path: p.Path, Mode: 0o600, Data: p.Data}
		}
		if err := nodeutils.WriteFiles(ctx, n, files); err != nil {
			return err
		}
	}
	var controlPlanes, workers []nodes.Node
	for _, n := range actx.Nodes {
		if n.Role() == constants.ControlPlaneRole {
			controlPlanes = append(controlPlanes, n)
		} else {
			workers = append(workers, n)
		}
	}
	if err := actions.ForEachNode(controlPlanes, func(_ int, n nodes.Node) error { return StartKubelet(ctx, n) }); err != nil {
		return err
	}
	endpoint, err := actx.Provider.APIServerEndpoint(ctx, actx.Config.Name)
	if err != nil {
		return err
	}
	client, err := HTTPClient(actx.PKI)
	if err != nil {
		return err
	}
	server := "https://" + endpoint
	err = WaitForReadyz(ctx, client, server, actx.PollInterval, actx.ReadyTimeout)
	if err == nil {
		if err := createKubeadmObjects(ctx, actx, server); err != nil {
			return err
		}
	}
	for _, cp := range controlPlanes {
		if err == nil {
			err = waitForNode(ctx, client, server, cp.String(), actx.PollInterval, actx.ReadyTimeout)
		}
		if err == nil {
			err = markControlPlane(ctx, client, server, cp.String())
		}
		if err != nil {
			return fmt.Errorf("%w\n\nlast kubelet log lines on %s:\n%s", err, cp, kubeletLog(ctx, cp))
		}
	}
	return actions.ForEachNode(workers, func(_ int, n nodes.Node) error { return StartKubelet(ctx, n) })
}

// waitForNode polls until the Node named name is registered.
func waitForNode(ctx context.Context, client *http.Client, server, name string, interval, timeout time.Duration) error {
	return actions.Poll(ctx, interval, timeout, "node "+name+" to register", func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/api/v1/nodes/"+name, nil)
		if err != nil {
			return true, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return true, nil
		}
		return false, fmt.Errorf("GET /api/v1/nodes/%s: %s", name, resp.Status)
	})
}

// markControlPlane labels the control-plane Node name as kubeadm's
// mark-control-plane phase does (nodeconfig.ControlPlaneLabels); its taint
// is registered by the kubelet (--register-with-taints).
func markControlPlane(ctx context.Context, client *http.Client, server, name string) error {
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"labels": nodeconfig.ControlPlaneLabels}})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, server+"/api/v1/nodes/"+name, bytes.NewReader(patch))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/merge-patch+json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("labelling node %s as a control plane: %w", name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("labelling node %s as a control plane: %s: %s", name, resp.Status, body)
	}
	return nil
}

// StartKubelet (re)starts the kubelet unit of a node now that its config
// exists. An image without /usr/bin/kubelet cannot run a cluster yet.
func StartKubelet(ctx context.Context, n nodes.Node) error {
	if err := n.CommandContext(ctx, "test", "-x", "/usr/bin/kubelet").Run(); err != nil {
		return fmt.Errorf("node %s has no kubelet (/usr/bin/kubelet): rebuild the node image (`make node-image`) once cmd/kubelet exists: %w", n, err)
	}
	// Until now the kubelet exited at once for want of its config and
	// systemd restarted it every second, which can trip the unit's start
	// limit; clear that first.
	if err := n.CommandContext(ctx, "systemctl", "reset-failed", "kubelet").Run(); err != nil {
		return fmt.Errorf("reset the kubelet unit on %s: %w", n, err)
	}
	if err := n.CommandContext(ctx, "systemctl", "restart", "kubelet").Run(); err != nil {
		return fmt.Errorf("start the kubelet on %s: %w", n, err)
	}
	return nil
}

// createKubeadmObjects creates kubeadm's RBAC objects (then kinc's own,
// manifests.KincRBAC, and the bootstrap token's Secret the workers join
// with) as kubeadm init does right after the apiserver is up: with super-admin.conf (system:masters,
// allowed before any binding exists), retrying while the apiserver settles.
func createKubeadmObjects(ctx context.Context, actx *actions.ActionContext, server string) error {
	if actx.PKI == nil {
		return errors.New("internal error: no cluster PKI")
	}
	client, err := clientAs(actx.PKI, actx.PKI.SuperAdmin)
	if err != nil {
		return err
	}
	return actions.Poll(ctx, actx.PollInterval, actx.ReadyTimeout, "kubeadm's RBAC objects to be created", func(ctx context.Context) (bool, error) {
		err := kubeapply.Create(ctx, client, server, manifests.KubeadmRBAC)
		if err == nil {
			err = kubeapply.Create(ctx, client, server, manifests.KincRBAC)
		}
		if err == nil { // the token the workers join with (kubeadm's default token)
			expires := time.Now().Add(pki.BootstrapTokenTTL)
			err = kubeapply.Create(ctx, client, server, pki.BootstrapTokenSecret(actx.PKI.BootstrapToken, expires))
		}
		return err == nil, err
	})
}

// HTTPClient returns a client trusting the cluster CA that authenticates as
// kubernetes-admin.
func HTTPClient(tree *pki.ClusterPKI) (*http.Client, error) {
	if tree == nil {
		return nil, errors.New("internal error: no cluster PKI")
	}
	return clientAs(tree, tree.Admin)
}

// clientAs returns a client trusting the cluster CA that authenticates with
// the client certificate kp.
func clientAs(tree *pki.ClusterPKI, kp *pki.KeyPair) (*http.Client, error) {
	if kp == nil {
		return nil, errors.New("internal error: no client certificate")
	}
	cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tree.CA.Pool(), Certificates: []tls.Certificate{cert}}},
	}, nil
}

// WaitForReadyz polls <server>/readyz until it answers 200.
func WaitForReadyz(ctx context.Context, client *http.Client, server string, interval, timeout time.Duration) error {
	return actions.Poll(ctx, interval, timeout, "the apiserver at "+server+"/readyz", func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/readyz", nil)
		if err != nil {
			return true, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return true, nil
		}
		return false, fmt.Errorf("%s: %s", resp.Status, bytes.TrimSpace(body))
	})
}

func kubeletLog(ctx context.Context, n nodes.Node) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	_ = n.CommandContext(ctx, "journalctl", "--no-pager", "-n", "30", "-u", "kubelet.service").SetStdout(&out).SetStderr(&out).Run()
	return out.String()
}
