package exec

import (
	"bytes"
	"context"
	"io"
	"os"
	osexec "os/exec"
	"sync"
)

// LocalCmder runs commands on this machine.
type LocalCmder struct{}

var _ Cmder = LocalCmder{}

// CommandContext returns a command that is killed when ctx ends.
func (LocalCmder) CommandContext(ctx context.Context, name string, args ...string) Cmd {
	c := osexec.CommandContext(ctx, name, args...)
	return &localCmd{cmd: c, args: append([]string{name}, args...)}
}

type localCmd struct {
	cmd            *osexec.Cmd
	args           []string
	stdout, stderr io.Writer
}

func (c *localCmd) SetEnv(env ...string) Cmd {
	c.cmd.Env = append(os.Environ(), env...)
	return c
}
func (c *localCmd) SetStdin(r io.Reader) Cmd  { c.cmd.Stdin = r; return c }
func (c *localCmd) SetStdout(w io.Writer) Cmd { c.stdout = w; return c }
func (c *localCmd) SetStderr(w io.Writer) Cmd { c.stderr = w; return c }

// Run runs the command. Output not sent elsewhere is captured (combined, in
// order) so a failure can show it.
func (c *localCmd) Run() error {
	var combined bytes.Buffer
	var mu sync.Mutex
	capture := lockedWriter{w: &combined, mu: &mu}
	c.cmd.Stdout = teeOrCapture(c.stdout, capture)
	c.cmd.Stderr = teeOrCapture(c.stderr, capture)
	if err := c.cmd.Run(); err != nil {
		return &RunError{Command: c.args, Output: combined.Bytes(), Inner: err}
	}
	return nil
}

func teeOrCapture(w io.Writer, capture io.Writer) io.Writer {
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
