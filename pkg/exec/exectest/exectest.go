// Package exectest is the twin of exec.Cmder for unit tests: a Cmder that
// records every command and answers it from a handler instead of running it.
package exectest

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/kinc-dev/kinc/pkg/exec"
)

// Cmder records commands and answers them with Handle (nil: success, no
// output). It is safe for concurrent use.
type Cmder struct {
	// Handle answers one command: write its output to c.Stdout/c.Stderr
	// (never nil) and return its error (a non-nil error becomes an
	// *exec.RunError, as a failing real command's).
	Handle func(c *Call) error

	mu    sync.Mutex // guards calls
	calls []Call
}

var _ exec.Cmder = (*Cmder)(nil)

// Call is one command as the handler and the recorder see it.
type Call struct {
	Args   []string // the program first
	Env    []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Line is the command line, space-separated.
func (c *Call) Line() string { return strings.Join(c.Args, " ") }

// CommandContext implements exec.Cmder.
func (f *Cmder) CommandContext(_ context.Context, name string, args ...string) exec.Cmd {
	return &cmd{f: f, call: Call{Args: append([]string{name}, args...)}}
}

// Calls returns the commands run so far, in order.
func (f *Cmder) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Lines returns the command lines run so far, in order.
func (f *Cmder) Lines() []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, c.Line())
	}
	return out
}

// Ran reports whether a command line run so far starts with prefix.
func (f *Cmder) Ran(prefix string) bool {
	for _, l := range f.Lines() {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

type cmd struct {
	f    *Cmder
	call Call
}

func (c *cmd) SetEnv(env ...string) exec.Cmd  { c.call.Env = env; return c }
func (c *cmd) SetStdin(r io.Reader) exec.Cmd  { c.call.Stdin = r; return c }
func (c *cmd) SetStdout(w io.Writer) exec.Cmd { c.call.Stdout = w; return c }
func (c *cmd) SetStderr(w io.Writer) exec.Cmd { c.call.Stderr = w; return c }

func (c *cmd) Run() error {
	c.f.mu.Lock()
	c.f.calls = append(c.f.calls, c.call)
	c.f.mu.Unlock()
	if c.call.Stdout == nil {
		c.call.Stdout = io.Discard
	}
	if c.call.Stderr == nil {
		c.call.Stderr = io.Discard
	}
	if c.f.Handle == nil {
		return nil
	}
	if err := c.f.Handle(&c.call); err != nil {
		return &exec.RunError{Command: c.call.Args, Output: []byte(err.Error()), Inner: err}
	}
	return nil
}
