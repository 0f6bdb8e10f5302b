package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/exec"
)

// node is a node container; commands run in it with docker exec.
type node struct {
	name, role string
	cli        *client.Client
}

var _ nodes.Node = &node{}

func (p *provider) node(name, role string) nodes.Node {
	return &node{name: name, role: role, cli: p.cli}
}

func (n *node) String() string { return n.name }
func (n *node) Role() string   { return n.role }

// IP implements nodes.Node.
func (n *node) IP(ctx context.Context) (string, error) {
	info, err := n.cli.ContainerInspect(ctx, n.name)
	if err != nil {
		return "", engineError("inspect "+n.name, err)
	}
	if info.NetworkSettings != nil {
		if ep := info.NetworkSettings.Networks[constants.NetworkName]; ep != nil && ep.IPAddress != "" {
			return ep.IPAddress, nil
		}
	}
	return "", fmt.Errorf("node %s has no IP on network %s (is it running?)", n.name, constants.NetworkName)
}

// SerialLogs implements nodes.Node.
func (n *node) SerialLogs(ctx context.Context, w io.Writer) error {
	rc, err := n.cli.ContainerLogs(ctx, n.name, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		return engineError("logs of "+n.name, err)
	}
	defer rc.Close()
	// Nodes have a TTY, so the stream is raw, not multiplexed.
	_, err = io.Copy(w, rc)
	return err
}

// CopyInto implements nodes.Node.
func (n *node) CopyInto(ctx context.Context, dir string, tar io.Reader) error {
	if err := n.cli.CopyToContainer(ctx, n.name, dir, tar, container.CopyToContainerOptions{}); err != nil {
		return engineError("copy into "+n.name+":"+dir, err)
	}
	return nil
}

// CommandContext implements exec.Cmder: the command runs in the node.
func (n *node) CommandContext(ctx context.Context, name string, args ...string) exec.Cmd {
	return &nodeCmd{ctx: ctx, node: n, argv: append([]string{name}, args...)}
}

// nodeCmd is one docker exec.
type nodeCmd struct {
	ctx            context.Context
	node           *node
	argv           []string
	env            []string
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (c *nodeCmd) SetEnv(env ...string) exec.Cmd  { c.env = env; return c }
func (c *nodeCmd) SetStdin(r io.Reader) exec.Cmd  { c.stdin = r; return c }
func (c *nodeCmd) SetStdout(w io.Writer) exec.Cmd { c.stdout = w; return c }
func (c *nodeCmd) SetStderr(w io.Writer) exec.Cmd { c.stderr = w; return c }

// Run runs the command and waits for it. Output not sent elsewhere is
// captured, so a failure (*exec.RunError) shows it.
func (c *nodeCmd) Run() error {
	fail := func(err error) error {
		return &exec.RunError{Command: append([]string{"docker", "exec", c.node.name}, c.argv...), Inner: err}
	}
	cli := c.node.cli
	created, err := cli.ContainerExecCreate(c.ctx, c.node.name, container.ExecOptions{
		Cmd: c.argv, Env: c.env,
		AttachStdin: c.stdin != nil, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return fail(engineError("exec in "+c.node.name, err))
	}
	att, err := cli.ContainerExecAttach(c.ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return fail(engineError("attach to exec in "+c.node.name, err))
	}
	defer att.Close()

	stdinErr := make(chan error, 1)
	if c.stdin != nil {
		go func() {
			_, err := io.Copy(att.Conn, c.stdin)
			if cerr := att.CloseWrite(); err == nil {
				err = cerr
			}
			stdinErr <- err
		}()
	} else {
		stdinErr <- nil
	}

	var combined bytes.Buffer
	var mu sync.Mutex
	capture := lockedWriter{w: &combined, mu: &mu}
	stdout, stderr := tee(c.stdout, capture), tee(c.stderr, capture)
	copyDone := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(stdout, stderr, att.Reader)
		copyDone <- err
	}()
	select {
	case err = <-copyDone:
	case <-c.ctx.Done():
		att.Close()
		err = c.ctx.Err()
	}
	out := func() []byte { mu.Lock(); defer mu.Unlock(); return append([]byte(nil), combined.Bytes()...) }
	if err != nil {
		re := fail(err).(*exec.RunError)
		re.Output = out()
		return re
	}
	if err := <-stdinErr; err != nil {
		re := fail(fmt.Errorf("write stdin: %w", err)).(*exec.RunError)
		re.Output = out()
		return re
	}
	insp, err := cli.ContainerExecInspect(c.ctx, created.ID)
	if err != nil {
		return fail(engineError("inspect exec in "+c.node.name, err))
	}
	if insp.ExitCode != 0 {
		re := fail(fmt.Errorf("exit status %d", insp.ExitCode)).(*exec.RunError)
		re.Output = out()
		return re
	}
	return nil
}

func tee(w, capture io.Writer) io.Writer {
	if w == nil {
		return capture
	}
	return io.MultiWriter(w, capture)
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
