package nodeimage

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/kinc-dev/kinc/pkg/exec"
)

// fakeCmder records commands and answers them with handle (nil: success,
// no output).
type fakeCmder struct {
	mu     sync.Mutex // guards calls
	calls  []string
	handle func(c *fakeCall) error
}

var _ exec.Cmder = (*fakeCmder)(nil)

// fakeCall is one command as the handler sees it.
type fakeCall struct {
	args   []string // name first
	env    []string
	stdin  io.Reader
	stdout io.Writer
}

func (c *fakeCall) line() string { return strings.Join(c.args, " ") }

func (f *fakeCmder) CommandContext(_ context.Context, name string, args ...string) exec.Cmd {
	return &fakeCmd{f: f, call: fakeCall{args: append([]string{name}, args...)}}
}

// commands returns the recorded command lines.
func (f *fakeCmder) commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// ran tells whether a recorded command line starts with prefix.
func (f *fakeCmder) ran(prefix string) bool {
	for _, c := range f.commands() {
		if strings.HasPrefix(c, prefix) {
			return true
		}
	}
	return false
}

type fakeCmd struct {
	f    *fakeCmder
	call fakeCall
}

func (c *fakeCmd) SetEnv(env ...string) exec.Cmd  { c.call.env = env; return c }
func (c *fakeCmd) SetStdin(r io.Reader) exec.Cmd  { c.call.stdin = r; return c }
func (c *fakeCmd) SetStdout(w io.Writer) exec.Cmd { c.call.stdout = w; return c }
func (c *fakeCmd) SetStderr(io.Writer) exec.Cmd   { return c }

func (c *fakeCmd) Run() error {
	c.f.mu.Lock()
	c.f.calls = append(c.f.calls, c.call.line())
	c.f.mu.Unlock()
	if c.call.stdout == nil {
		c.call.stdout = io.Discard
	}
	if c.f.handle == nil {
		return nil
	}
	err := c.f.handle(&c.call)
	if err != nil {
		return &exec.RunError{Command: c.call.args, Output: []byte("fake failure"), Inner: err}
	}
	return nil
}
