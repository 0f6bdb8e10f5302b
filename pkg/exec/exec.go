// Package exec runs external commands (docker, commands inside nodes) behind a
// small interface, so callers can be tested with a fake and every failure
// carries the command and its output.
package exec

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Cmd is one external command, configured before it runs. A Cmd runs once.
type Cmd interface {
	// Run runs the command to completion. A non-zero exit is a *RunError
	// holding the combined output when no Stdout/Stderr was set.
	Run() error
	SetEnv(env ...string) Cmd
	SetStdin(r io.Reader) Cmd
	SetStdout(w io.Writer) Cmd
	SetStderr(w io.Writer) Cmd
}

// Cmder creates commands. Node handles implement it too, so running in a node
// reads like running on the host. Implementations are safe for concurrent use.
type Cmder interface {
	CommandContext(ctx context.Context, name string, args ...string) Cmd
}

// RunError is a failed command: what ran, what it printed, and why it failed.
type RunError struct {
	Command []string
	Output  []byte
	Inner   error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("command %q failed with error: %v", strings.Join(e.Command, " "), e.Inner)
}

// Unwrap returns the underlying error (usually an *os/exec.ExitError).
func (e *RunError) Unwrap() error { return e.Inner }

// OutputLines runs cmd and returns its stdout split into lines.
func OutputLines(cmd Cmd) ([]string, error) {
	var b strings.Builder
	if err := cmd.SetStdout(&b).Run(); err != nil {
		return nil, err
	}
	out := strings.TrimRight(b.String(), "\n")
	if out == "" {
		return nil, nil
	}
	return strings.Split(out, "\n"), nil
}
