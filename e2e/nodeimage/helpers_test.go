//go:build e2e

package nodeimage

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
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

// cleanup removes this test's node containers and their volumes.
func cleanup(ctx context.Context, t *testing.T, cli *client.Client) {
	t.Helper()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", labelKey+"="+clusterName))})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	for _, c := range list {
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			t.Logf("remove %s: %v", c.ID, err)
		}
	}
}

// runNode starts a node container with DESIGN.md §6's flags (no
// --privileged) and returns its ID.
func runNode(ctx context.Context, t *testing.T, cli *client.Client, image, name string) string {
	t.Helper()
	created, err := cli.ContainerCreate(ctx,
		&container.Config{
			Image:    image,
			Hostname: name,
			Env:      []string{"container=docker"},
			Labels:   map[string]string{labelKey: clusterName, "io.kinc.role": "control-plane"},
			Volumes:  map[string]struct{}{"/var": {}},
		},
		&container.HostConfig{
			CapAdd:       []string{"ALL"},
			CapDrop:      []string{"SYS_RESOURCE"},
			SecurityOpt:  []string{"seccomp=unconfined", "apparmor=unconfined"},
			Tmpfs:        map[string]string{"/run": "", "/tmp": ""},
			Binds:        []string{"/sys/fs/cgroup:/sys/fs/cgroup:rw"},
			CgroupnsMode: container.CgroupnsModePrivate,
		},
		nil, nil, name)
	if err != nil {
		t.Fatalf("create node: %v", err)
	}
	if err := cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatalf("start node: %v", err)
	}
	return created.ID
}

// execIn runs a command in the node and returns its stdout; a non-zero exit
// is an error carrying stdout and stderr.
func execIn(ctx context.Context, cli *client.Client, id string, cmd ...string) (string, error) {
	ex, err := cli.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", err
	}
	att, err := cli.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", err
	}
	defer att.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
		return "", err
	}
	insp, err := cli.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		return "", err
	}
	if insp.ExitCode != 0 {
		return stdout.String(), fmt.Errorf("%s: exit %d: %s%s", strings.Join(cmd, " "), insp.ExitCode, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// mustExec is execIn that fails the test on error.
func mustExec(ctx context.Context, t *testing.T, cli *client.Client, id string, cmd ...string) string {
	t.Helper()
	out, err := execIn(ctx, cli, id, cmd...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// writeFiles copies files (path → content) into the node.
func writeFiles(ctx context.Context, t *testing.T, cli *client.Client, id string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		hdr := &tar.Header{Name: strings.TrimPrefix(name, "/"), Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cli.CopyToContainer(ctx, id, "/", &buf, container.CopyToContainerOptions{}); err != nil {
		t.Fatalf("copy files into the node: %v", err)
	}
}

// waitRunning waits for systemd in the node to finish booting and returns
// its state ("running", or "degraded" with the failed units checked by the
// caller) and how long it took.
func waitRunning(ctx context.Context, t *testing.T, cli *client.Client, id string, since time.Time) (string, time.Duration) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, _ := execIn(ctx, cli, id, "systemctl", "is-system-running")
		state := strings.TrimSpace(out)
		if state == "running" || state == "degraded" {
			return state, time.Since(since)
		}
		if time.Now().After(deadline) {
			jobs, _ := execIn(ctx, cli, id, "systemctl", "list-jobs", "--no-pager")
			t.Fatalf("node did not finish booting in 90s (state %q); jobs:\n%s", state, jobs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitExited waits for a CRI container to exit and returns its exit code.
func waitExited(ctx context.Context, t *testing.T, cli *client.Client, id, ctr string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := mustExec(ctx, t, cli, id, "crictl", "inspect", "-o", "go-template",
			"--template", "{{.status.state}} {{.status.exitCode}}", ctr)
		if state, code, _ := strings.Cut(out, " "); state == "CONTAINER_EXITED" {
			return code
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s did not exit: %s", ctr, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
