//go:build e2e

// Package engine checks that the Docker engine on this machine can run
// containers with the arguments kinc gives node containers (see DESIGN.md §6:
// no --privileged, all capabilities but SYS_RESOURCE, private cgroup
// namespace, tmpfs /run and /tmp, an anonymous volume on /var).
package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
)

const (
	name      = "kinc-e2e-engine"
	imageRef  = "kinc-e2e-engine:latest"
	labelKey  = "io.kinc.cluster"
	probeMain = `package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	host, _ := os.Hostname()
	fmt.Println("hostname=" + host)
	fmt.Println("container=" + os.Getenv("container"))
	if err := os.WriteFile("/var/probe", []byte("ok"), 0o644); err == nil {
		fmt.Println("var=writable")
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	for _, l := range strings.Split(string(mounts), "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && (f[1] == "/run" || f[1] == "/tmp") {
			fmt.Println("mount " + f[1] + "=" + f[2])
		}
	}
}
`
)

func newClient(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// cleanup removes what an earlier, interrupted run may have left behind.
func cleanup(ctx context.Context, t *testing.T, cli *client.Client) {
	t.Helper()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", labelKey+"="+name))})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	for _, c := range list {
		_ = cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}
	_ = cli.NetworkRemove(ctx, name)
	_, _ = cli.ImageRemove(ctx, imageRef, image.RemoveOptions{Force: true})
}

// importProbeImage builds a one-binary image with `docker import`, the way
// kinc builds images with no registry.
func importProbeImage(ctx context.Context, t *testing.T, cli *client.Client) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(probeMain), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module probe\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", "probe", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build probe: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"var/", "run/", "tmp/", "proc/", "sys/", "dev/", "etc/"} {
		if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "probe", Mode: 0o755, Size: int64(len(bin))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(bin); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	rc, err := cli.ImageImport(ctx, image.ImportSource{Source: &buf, SourceName: "-"}, imageRef, image.ImportOptions{})
	if err != nil {
		t.Fatalf("docker import: %v", err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
}

func TestEngineRunsNodeStyleContainers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cli := newClient(t)
	if _, err := cli.Ping(ctx); err != nil {
		t.Fatalf("docker engine does not answer: %v (run hack/ensure-docker.sh)", err)
	}
	info, err := cli.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("engine %s, API %s, storage %s, cgroup v%s", info.ServerVersion, cli.ClientVersion(), info.Driver, info.CgroupVersion)

	cleanup(ctx, t, cli)
	t.Cleanup(func() { cleanup(context.Background(), t, cli) })
	importProbeImage(ctx, t, cli)

	if _, err := cli.NetworkCreate(ctx, name, network.CreateOptions{Labels: map[string]string{labelKey: name}}); err != nil {
		t.Fatalf("create network: %v", err)
	}
	node := name + "-control-plane"
	created, err := cli.ContainerCreate(ctx,
		&container.Config{
			Image:        imageRef,
			Cmd:          []string{"/probe"},
			Hostname:     node,
			Env:          []string{"container=docker"},
			Labels:       map[string]string{labelKey: name, "io.kinc.role": "control-plane"},
			StopSignal:   "SIGRTMIN+3",
			Volumes:      map[string]struct{}{"/var": {}},
			ExposedPorts: nat.PortSet{"6443/tcp": {}},
		},
		&container.HostConfig{
			CapAdd:       []string{"ALL"},
			CapDrop:      []string{"SYS_RESOURCE"},
			SecurityOpt:  []string{"seccomp=unconfined", "apparmor=unconfined"},
			Tmpfs:        map[string]string{"/run": "", "/tmp": ""},
			Binds:        []string{"/sys/fs/cgroup:/sys/fs/cgroup:rw"},
			CgroupnsMode: container.CgroupnsModePrivate,
			PortBindings: nat.PortMap{"6443/tcp": {{HostIP: "127.0.0.1", HostPort: "0"}}},
		},
		&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{name: {}}},
		nil, node)
	if err != nil {
		t.Fatalf("create container: %v", err)
	}
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start container: %v", err)
	}
	waitC, errC := cli.ContainerWait(ctx, created.ID, container.WaitConditionNotRunning)
	select {
	case res := <-waitC:
		if res.StatusCode != 0 {
			t.Fatalf("probe exited %d", res.StatusCode)
		}
	case err := <-errC:
		t.Fatalf("wait: %v", err)
	}
	logs, err := cli.ContainerLogs(ctx, created.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, logs); err != nil {
		t.Fatal(err)
	}
	got := stdout.String()
	for _, want := range []string{"hostname=" + node, "container=docker", "var=writable", "mount /run=tmpfs", "mount /tmp=tmpfs"} {
		if !strings.Contains(got, want) {
			t.Errorf("probe output lacks %q:\n%s%s", want, got, stderr.String())
		}
	}
}
