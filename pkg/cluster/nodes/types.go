// Package nodes defines the handle of a kinc node: a container that runs
// commands like a host does (it implements exec.Cmder), plus what kinc needs
// to know about it.
package nodes

import (
	"context"
	"io"

	"github.com/kinc-dev/kinc/pkg/exec"
)

// Node is one node container of a cluster. Implementations are safe for
// concurrent use.
type Node interface {
	// CommandContext runs a command inside the node (docker exec); a
	// failure is an *exec.RunError carrying the command's output.
	exec.Cmder
	// String is the node's name: its container name and hostname.
	String() string
	// Role is "control-plane" or "worker" (the io.kinc.role label).
	Role() string
	// IP is the node's IPv4 address on the kinc network.
	IP(ctx context.Context) (string, error)
	// SerialLogs writes the container's output (systemd's console).
	SerialLogs(ctx context.Context, w io.Writer) error
	// CopyInto extracts a tar stream into dir inside the node (docker cp).
	CopyInto(ctx context.Context, dir string, tar io.Reader) error
}
