//go:build e2e

package node

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

// criBaseline starts pods through the node's containerd with the Go CRI
// client the kubelet uses (pkg/kubelet/cri), from the host: the same CRI
// calls the kubelet makes for a pod (RunPodSandbox on the node's CNI
// network, CreateContainer, StartContainer), with no process per call, so
// it is the floor under the kubelet's pod start-up.
type criBaseline struct {
	e   *env
	c   *cri.Client
	dir string // in the node: the pods' log directories
}

// newCRIBaseline dials the node's containerd socket through the node's
// root as the host sees it (/proc/<node PID 1>/root), which needs root.
func (e *env) newCRIBaseline() *criBaseline {
	e.tb.Helper()
	testenv.RequireRoot(e.tb, "reaching the node's containerd socket from the host")
	insp, err := e.cli.ContainerInspect(e.ctx, e.node)
	if err != nil {
		e.tb.Fatal(err)
	}
	c, err := cri.Dial(fmt.Sprintf("unix:///proc/%d/root/run/containerd/containerd.sock", insp.State.Pid))
	if err != nil {
		e.tb.Fatal(err)
	}
	e.tb.Cleanup(func() { _ = c.Close() })
	if _, err := c.Version(e.ctx); err != nil {
		e.tb.Fatalf("the node's CRI through /proc/%d/root: %v", insp.State.Pid, err)
	}
	return &criBaseline{e: e, c: c, dir: "/var/lib/kinc-e2e-bench"}
}

// start starts n pods named cri-<prefix>-<i> at once, one goroutine each
// (the kubelet's pod workers start pods concurrently too), and returns
// each pod's time from RunPodSandbox to StartContainer returning, and the
// time until all had started. It checks that every container runs, then
// removes the pods (untimed).
func (b *criBaseline) start(prefix string, n int) ([]time.Duration, time.Duration) {
	e := b.e
	e.tb.Helper()
	e.mustExec("mkdir", "-p", b.dir+"/"+prefix)
	took := make([]time.Duration, n)
	sandboxes := make([]string, n)
	containers := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			t0 := time.Now()
			sandboxes[i], containers[i], errs[i] = b.startOne(e.ctx, prefix, i)
			took[i] = time.Since(t0)
		})
	}
	wg.Wait()
	all := time.Since(start)
	for i, err := range errs {
		if err != nil {
			e.tb.Fatalf("CRI pod %d: %v", i, err)
		}
	}
	for _, id := range containers {
		st, err := b.c.ContainerStatus(e.ctx, id)
		if err != nil || st == nil || st.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
			e.tb.Fatalf("CRI container %s not running: %v %v", id, st, err)
		}
	}
	for _, id := range sandboxes {
		if err := b.c.StopPodSandbox(e.ctx, id); err != nil {
			e.tb.Fatalf("stop sandbox: %v", err)
		}
		if err := b.c.RemovePodSandbox(e.ctx, id); err != nil {
			e.tb.Fatalf("remove sandbox: %v", err)
		}
	}
	return took, all
}

func (b *criBaseline) startOne(ctx context.Context, prefix string, i int) (sandbox, ctr string, err error) {
	name := "cri-" + prefix + "-" + strconv.Itoa(i)
	sc := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "default", Uid: name + "-uid"},
		Hostname:     name,
		LogDirectory: b.dir + "/" + prefix + "/" + name,
		Linux:        &runtimeapi.LinuxPodSandboxConfig{},
	}
	if sandbox, err = b.c.RunPodSandbox(ctx, sc); err != nil {
		return "", "", fmt.Errorf("run sandbox: %w", err)
	}
	cc := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
		Image:    &runtimeapi.ImageSpec{Image: "docker.io/" + framework.BusyboxImage},
		Command:  []string{"sleep", "3600"},
		LogPath:  "c.log",
		Linux:    &runtimeapi.LinuxContainerConfig{},
	}
	if ctr, err = b.c.CreateContainer(ctx, sandbox, cc, sc); err != nil {
		return sandbox, "", fmt.Errorf("create container: %w", err)
	}
	if err := b.c.StartContainer(ctx, ctr); err != nil {
		return sandbox, ctr, fmt.Errorf("start container: %w", err)
	}
	return sandbox, ctr, nil
}
