//go:build e2e

package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/version"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/internal/testenv"
)

const fullConfig = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
  labels:
    tier: web
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    certSANs: [kinc-e2e.example]
`

const pausePod = `apiVersion: v1
kind: Pod
metadata:
  name: e2e-pause
spec:
  nodeSelector:
    tier: web
  containers:
  - name: pause
    image: ` + version.PauseImage + `
    imagePullPolicy: Never
`

// TestCreateWithNodeImage creates a real two-node cluster when the node
// image exists: kubectl (the real one) sees both nodes Ready and runs a pod
// on the worker; images load into a chosen node; logs export; delete leaves
// nothing behind. An image without a kubelet must fail naming it.
func TestCreateWithNodeImage(t *testing.T) {
	framework.RequireKubectl(t)
	cli := framework.DockerClient(t)
	img := cluster.DefaultNodeImage()
	if _, err := cli.ImageInspect(context.Background(), img); err != nil {
		if _, err := cli.ImageInspect(context.Background(), version.LatestNodeImage); err != nil {
			testenv.Missing(t, "neither %s nor %s is present (build one with `make node-image`)", img, version.LatestNodeImage)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	const name = "kinc-e2e-create"
	cleanupCluster(t, cli, name)
	kc := filepath.Join(t.TempDir(), "config")
	p := newProvider(t, kc)
	start := time.Now()
	err := p.Create(ctx, name, cluster.CreateWithRawConfig([]byte(fullConfig)), cluster.CreateWithKubeconfigPath(kc),
		cluster.CreateWithWaitForReady(2*time.Minute))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Logf("cluster created in %s", time.Since(start).Round(100*time.Millisecond))

	kubectl := func(stdin string, args ...string) string {
		t.Helper()
		out, err := framework.Kubectl(ctx, kc, stdin, append([]string{"--context", "kinc-" + name}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := kubectl("", "get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}`)
	if want := name + "-control-plane=True " + name + "-worker=True "; out != want {
		t.Fatalf("nodes %q, want %q", out, want)
	}
	kubectl(pausePod, "apply", "-f", "-")
	deadline := time.Now().Add(90 * time.Second)
	for {
		out = kubectl("", "get", "pod", "e2e-pause", "-o", "jsonpath={.status.phase} {.spec.nodeName} {.status.podIP}")
		if strings.HasPrefix(out, "Running ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod not Running after 90s: %q\n%s", out, kubectl("", "describe", "pod", "e2e-pause"))
		}
		time.Sleep(time.Second)
	}
	if f := strings.Fields(out); len(f) != 3 || f[1] != name+"-worker" || !strings.HasPrefix(f[2], "10.244.1.") {
		t.Errorf("pod placement %q: want the worker and its pod range 10.244.1.0/24", out)
	}

	// Load an image into the worker only.
	loadImage := "kinc-e2e-load:1"
	importTinyImage(t, cli, loadImage)
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), loadImage, image.RemoveOptions{Force: true}) })
	if _, err := run(t, "load", "docker-image", loadImage, "--name", name, "--nodes", name+"-worker"); err != nil {
		t.Fatal(err)
	}
	nodes, err := p.ListNodes(ctx, name)
	must(t, err)
	for _, n := range nodes {
		var images bytes.Buffer
		must(t, n.CommandContext(ctx, "ctr", "-n", "k8s.io", "images", "ls", "-q").SetStdout(&images).Run())
		has := strings.Contains(images.String(), loadImage)
		if has != (n.String() == name+"-worker") {
			t.Errorf("%s has %s: %v", n, loadImage, has)
		}
	}

	// And an image archive into every node.
	archiveImage := "kinc-e2e-archive:1"
	importTinyImage(t, cli, archiveImage)
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), archiveImage, image.RemoveOptions{Force: true}) })
	archive := filepath.Join(t.TempDir(), "images.tar")
	rc, err := cli.ImageSave(ctx, []string{archiveImage})
	must(t, err)
	data, err := io.ReadAll(rc)
	rc.Close()
	must(t, err)
	must(t, os.WriteFile(archive, data, 0o644))
	if _, err := run(t, "load", "image-archive", archive, "--name", name); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		var images bytes.Buffer
		must(t, n.CommandContext(ctx, "ctr", "-n", "k8s.io", "images", "ls", "-q").SetStdout(&images).Run())
		if !strings.Contains(images.String(), archiveImage) {
			t.Errorf("%s lacks %s from the archive", n, archiveImage)
		}
	}

	logs := t.TempDir()
	if _, err := run(t, "export", "logs", logs, "--name", name); err != nil {
		t.Errorf("export logs: %v", err)
	}
	for _, f := range []string{"kubelet.log", "containerd.log", "kinc-node.log", "containers.log", "pods.log", "inspect.json", "pods"} {
		if fi, err := os.Stat(filepath.Join(logs, name+"-control-plane", f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not exported: %v", f, err)
		}
	}

	volumes := anonymousVolumes(ctx, t, cli, name)
	if err := p.Delete(ctx, name, kc); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if n := len(containers(t, cli, name)); n != 0 {
		t.Errorf("%d containers left", n)
	}
	for _, v := range volumes {
		if _, err := cli.VolumeInspect(ctx, v); !client.IsErrNotFound(err) {
			t.Errorf("volume %s left after delete (%v)", v, err)
		}
	}
	if data, _ := os.ReadFile(kc); strings.Contains(string(data), "kinc-"+name) {
		t.Errorf("kubeconfig still names the cluster:\n%s", data)
	}
}

// importTinyImage makes a one-file image with docker import.
func importTinyImage(t *testing.T, cli *client.Client, ref string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 3}))
	_, err := tw.Write([]byte("hi\n"))
	must(t, err)
	must(t, tw.Close())
	rc, err := cli.ImageImport(context.Background(), image.ImportSource{Source: &buf, SourceName: "-"}, ref, image.ImportOptions{})
	must(t, err)
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
}
