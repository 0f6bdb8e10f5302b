//go:build e2e

// Package cluster tests cluster creation and deletion against the real
// Docker engine: bad configs and names in use are rejected before anything
// is created; node containers made by the provider are listed, reached and
// deleted without leaving containers, volumes or kubeconfig entries. The
// full create needs the node image (make node-image) and is skipped without.
package cluster

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cluster/nodeutils"
	kinccmd "github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"

	"github.com/kinc-dev/kinc/e2e/framework"
)

func TestBadConfigsRejectedBeforeAnythingIsCreated(t *testing.T) {
	cli := framework.DockerClient(t)
	const name = "kinc-e2e-badconfig"
	cleanupCluster(t, cli, name)
	p := newProvider(t, filepath.Join(t.TempDir(), "config"))
	tests := map[string]struct{ doc, want string }{
		"unknown field":     {"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodez: []\n", `unknown field "nodez"`},
		"HA control plane":  {"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: control-plane\n", "2 control-plane nodes"},
		"ipv6":              {"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnetworking:\n  ipFamily: ipv6\n", "networking.ipFamily"},
		"port out of range": {"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 99999\n", "nodes[0].extraPortMappings[0].hostPort"},
		"kubelet field":     {"kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nkubeadmConfigPatches:\n- |\n  kind: KubeletConfiguration\n  failSwapOn: false\n", `unknown field "failSwapOn"`},
	}
	for label, tt := range tests {
		err := p.Create(context.Background(), name, cluster.CreateWithRawConfig([]byte(tt.doc)), cluster.CreateWithNodeImage(fakeNodeImage))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to name %q", label, err, tt.want)
		}
		if n := len(containers(t, cli, name)); n != 0 {
			t.Errorf("%s: %d containers created for a bad config", label, n)
		}
	}
}

func TestMissingNodeImage(t *testing.T) {
	cli := framework.DockerClient(t)
	const name = "kinc-e2e-noimage"
	cleanupCluster(t, cli, name)
	p := newProvider(t, filepath.Join(t.TempDir(), "config"))
	err := p.Create(context.Background(), name, cluster.CreateWithNodeImage("kinc-e2e-no-such-image:0"))
	if !errors.Is(err, cluster.ErrNodeImageMissing) || !strings.Contains(err.Error(), "kinc-e2e-no-such-image:0") {
		t.Fatalf("error %v", err)
	}
	if n := len(containers(t, cli, name)); n != 0 {
		t.Fatalf("%d containers created without an image", n)
	}
}

// run runs the kinc CLI in process.
func run(t testing.TB, args ...string) (string, error) {
	t.Helper()
	return runIn(t, "", args...)
}

// runIn runs the kinc CLI in process with stdin.
func runIn(t testing.TB, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	c := kinc.NewCommand(kinccmd.NewLogger(&errOut, 0), kinccmd.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	c.SetArgs(args)
	err := c.Execute()
	if err != nil {
		t.Logf("kinc %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), err
}

func TestNodesListedReachedAndDeleted(t *testing.T) {
	cli := framework.DockerClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const name = "kinc-e2e-nodes"
	cleanupCluster(t, cli, name)
	buildFakeNodeImage(t, cli)
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), fakeNodeImage, image.RemoveOptions{Force: true}) })
	kc := filepath.Join(t.TempDir(), "config")
	t.Setenv("KUBECONFIG", kc)
	p := newProvider(t, kc)

	cfg := "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n"
	err := p.Create(ctx, name, cluster.CreateWithRawConfig([]byte(cfg)), cluster.CreateWithNodeImage(fakeNodeImage),
		cluster.CreateWithStopBeforeSettingUpKubernetes(true))
	if err != nil {
		t.Fatal(err)
	}

	// The name is now in use: a second create is refused and adds nothing.
	err = p.Create(ctx, name, cluster.CreateWithNodeImage(fakeNodeImage))
	if !errors.Is(err, cluster.ErrClusterExists) {
		t.Fatalf("second create: %v", err)
	}
	if n := len(containers(t, cli, name)); n != 3 {
		t.Fatalf("%d containers after a refused create, want 3", n)
	}

	out, err := run(t, "get", "clusters")
	if err != nil || !strings.Contains(out, name+"\n") {
		t.Fatalf("get clusters: %q %v", out, err)
	}
	out, err = run(t, "get", "nodes", "--name", name)
	if want := name + "-control-plane\n" + name + "-worker\n" + name + "-worker2\n"; err != nil || out != want {
		t.Fatalf("get nodes: %q %v, want %q", out, err, want)
	}

	out, err = run(t, "get", "nodes", "--all-clusters")
	if err != nil || !strings.Contains(out, name+"-worker2\n") {
		t.Fatalf("get nodes --all-clusters: %q %v", out, err)
	}

	// Nodes run commands and take files like hosts do.
	nodes, err := p.ListNodes(ctx, name)
	if err != nil || len(nodes) != 3 {
		t.Fatalf("nodes %v %v", nodes, err)
	}
	cp := nodes[0]
	if cp.Role() != "control-plane" || nodes[1].Role() != "worker" {
		t.Fatalf("roles %s %s", cp.Role(), nodes[1].Role())
	}
	info, err := cli.ContainerInspect(ctx, cp.String())
	must(t, err)
	switch {
	case info.HostConfig.Privileged:
		t.Log("node containers run --privileged on this engine")
	case len(info.HostConfig.CapAdd) == 1 && info.HostConfig.CapAdd[0] == "ALL":
		t.Logf("node containers run with --cap-add ALL --cap-drop %v (no --privileged on this engine)", info.HostConfig.CapDrop)
	default:
		t.Errorf("node container neither privileged nor with all capabilities: %+v", info.HostConfig)
	}
	if ip, err := cp.IP(ctx); err != nil || ip == "" {
		t.Fatalf("IP %q %v", ip, err)
	}
	must(t, nodeutils.WriteFiles(ctx, cp, []nodeutils.File{{Path: "/etc/kinc/hello", Mode: 0o644, Data: []byte("hi there")}}))
	var got bytes.Buffer
	if err := cp.CommandContext(ctx, "cat", "/etc/kinc/hello").SetStdout(&got).Run(); err != nil || got.String() != "hi there" {
		t.Fatalf("cat in node: %q %v", got.String(), err)
	}
	err = cp.CommandContext(ctx, "cat", "/nonexistent").Run()
	if err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("failing command: %v", err)
	}
	var hostname bytes.Buffer
	must(t, cp.CommandContext(ctx, "cat", "/etc/hostname").SetStdout(&hostname).Run())
	if strings.TrimSpace(hostname.String()) != cp.String() {
		t.Errorf("hostname %q, want %q", hostname.String(), cp.String())
	}
	endpoint, err := getEndpoint(ctx, cli, cp.String())
	if err != nil || !strings.HasPrefix(endpoint, "127.0.0.1:") {
		t.Errorf("apiserver port published at %q (%v)", endpoint, err)
	}

	// A kubeconfig entry like create writes, to see delete remove it.
	entry, _ := kubeconfig.Build(kubeconfig.Params{Server: "https://" + endpoint, ClusterName: "kinc-" + name, UserName: "kinc-" + name, ContextName: "kinc-" + name})
	must(t, kubeconfig.Merge(kc, entry, true))
	volumes := anonymousVolumes(ctx, t, cli, name)
	if len(volumes) != 3 {
		t.Errorf("anonymous /var volumes %v, want 3", volumes)
	}

	if _, err := run(t, "delete", "cluster", "--name", name); err != nil {
		t.Fatal(err)
	}
	if n := len(containers(t, cli, name)); n != 0 {
		t.Errorf("%d containers left after delete", n)
	}
	for _, v := range volumes {
		if _, err := cli.VolumeInspect(ctx, v); !client.IsErrNotFound(err) {
			t.Errorf("volume %s left after delete (%v)", v, err)
		}
	}
	data, _ := os.ReadFile(kc)
	if strings.Contains(string(data), "kinc-"+name) {
		t.Errorf("kubeconfig still names the cluster:\n%s", data)
	}
	out, err = run(t, "get", "clusters")
	if err != nil || strings.Contains(out, name) {
		t.Errorf("get clusters after delete: %q %v", out, err)
	}
	// Deleting again succeeds: nothing to delete.
	if _, err := run(t, "delete", "cluster", "--name", name); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

func getEndpoint(ctx context.Context, cli *client.Client, node string) (string, error) {
	info, err := cli.ContainerInspect(ctx, node)
	if err != nil {
		return "", err
	}
	for _, b := range info.NetworkSettings.Ports["6443/tcp"] {
		return b.HostIP + ":" + b.HostPort, nil
	}
	return "", errors.New("6443/tcp not published")
}

func anonymousVolumes(ctx context.Context, t *testing.T, cli *client.Client, name string) []string {
	t.Helper()
	var out []string
	for _, c := range containers(t, cli, name) {
		info, err := cli.ContainerInspect(ctx, c.ID)
		must(t, err)
		for _, m := range info.Mounts {
			if m.Type == "volume" && m.Destination == "/var" {
				out = append(out, m.Name)
			}
		}
	}
	return out
}
