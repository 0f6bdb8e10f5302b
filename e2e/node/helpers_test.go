//go:build e2e

package node

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	kinccmd "github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc"
)

// env is a running cluster of one control-plane node for a test or a
// benchmark.
type env struct {
	tb         testing.TB
	ctx        context.Context
	cli        *client.Client
	name       string // cluster
	node       string // its control-plane node container
	kubeconfig string
}

// newEnv deletes what an earlier run of cluster name left, builds the
// busybox image, creates the cluster and loads the image into it. The
// cluster is deleted when tb ends.
func newEnv(ctx context.Context, tb testing.TB, name string) *env {
	tb.Helper()
	framework.RequireKubectl(tb) // DESIGN.md §6: the real kubectl is the client here
	cli := framework.DockerClient(tb)
	img := framework.NodeImage(tb, cli)
	framework.LockNodeStops(tb)
	e := &env{tb: tb, ctx: ctx, cli: cli, name: name, node: name + "-control-plane",
		kubeconfig: filepath.Join(tb.TempDir(), "kubeconfig")}
	e.removeNodes()
	tb.Cleanup(e.removeNodes)

	framework.ImportBusybox(ctx, tb, cli)
	start := time.Now()
	e.kinc("create", "cluster", "--name", name, "--image", img, "--wait", "90s", "--kubeconfig", e.kubeconfig)
	tb.Logf("cluster %s created from %s in %s", name, img, since(start))
	start = time.Now()
	e.kinc("load", "docker-image", framework.BusyboxImage, "--name", name)
	tb.Logf("%s loaded in %s", framework.BusyboxImage, since(start))
	return e
}

// removeNodes force-removes the cluster's node containers and their
// volumes (what `kinc delete cluster` does, without needing a kubeconfig).
func (e *env) removeNodes() {
	list, err := e.cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", constants.ClusterLabelKey+"="+e.name))})
	if err != nil {
		e.tb.Errorf("list containers: %v", err)
		return
	}
	for _, c := range list {
		if err := e.cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			e.tb.Errorf("remove %s: %v", c.Names, err)
		}
	}
}

// kinc runs the kinc CLI in process.
func (e *env) kinc(args ...string) string {
	e.tb.Helper()
	var out, errOut bytes.Buffer
	c := kinc.NewCommand(kinccmd.NewLogger(&errOut, 0), kinccmd.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	c.SetArgs(args)
	if err := c.ExecuteContext(e.ctx); err != nil {
		e.tb.Fatalf("kinc %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// kubectl runs the real kubectl against the cluster; stdin may be "".
func (e *env) kubectl(stdin string, args ...string) (string, error) {
	return framework.Kubectl(e.ctx, e.kubeconfig, stdin, args...)
}

func (e *env) mustKubectl(stdin string, args ...string) string {
	e.tb.Helper()
	out, err := e.kubectl(stdin, args...)
	if err != nil {
		e.tb.Fatal(err)
	}
	return out
}

// exec runs a command in the node container (docker exec) and returns its
// stdout; a non-zero exit is an error carrying stdout and stderr.
func (e *env) exec(cmd ...string) (string, error) {
	ex, err := e.cli.ContainerExecCreate(e.ctx, e.node, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", err
	}
	att, err := e.cli.ContainerExecAttach(e.ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", err
	}
	defer att.Close()
	var stdout, stderr bytes.Buffer
	if _, err := stdcopy.StdCopy(&stdout, &stderr, att.Reader); err != nil {
		return "", err
	}
	insp, err := e.cli.ContainerExecInspect(e.ctx, ex.ID)
	if err != nil {
		return "", err
	}
	if insp.ExitCode != 0 {
		return stdout.String(), fmt.Errorf("docker exec %s %s: exit %d: %s%s", e.node, strings.Join(cmd, " "), insp.ExitCode, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

func (e *env) mustExec(cmd ...string) string {
	e.tb.Helper()
	out, err := e.exec(cmd...)
	if err != nil {
		e.tb.Fatal(err)
	}
	return out
}

// eventually polls cond every interval until it returns true or timeout
// passes; then it fails with what describe returns. It returns how long it
// took.
func (e *env) eventually(timeout, interval time.Duration, what string, cond func() bool, describe func() string) time.Duration {
	e.tb.Helper()
	return framework.Eventually(e.tb, timeout, interval, what, cond, describe)
}

// describe returns `kubectl describe` of an object, for failure messages.
func (e *env) describe(args ...string) func() string {
	return func() string {
		out, _ := e.kubectl("", append([]string{"describe"}, args...)...)
		return out
	}
}

// kubeletPID returns the kubelet's PID in the node.
func (e *env) kubeletPID() string {
	e.tb.Helper()
	return strings.TrimSpace(e.mustExec("pidof", "kubelet"))
}

// vmRSS returns VmRSS in MB of a process in the node.
func (e *env) vmRSS(pid string) float64 {
	e.tb.Helper()
	status := e.mustExec("cat", "/proc/"+pid+"/status")
	for _, line := range strings.Split(status, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" && f[2] == "kB" {
			var kb float64
			fmt.Sscan(f[1], &kb)
			return kb / 1024
		}
	}
	e.tb.Fatalf("no VmRSS in /proc/%s/status:\n%s", pid, status)
	return 0
}

func since(t time.Time) time.Duration { return time.Since(t).Round(10 * time.Millisecond) }

// percentile returns the p-th percentile (0 < p ≤ 100, nearest rank) of
// ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s))+0.999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(s) {
		rank = len(s) - 1
	}
	return s[rank]
}
