// Package providers defines how kinc gets node infrastructure: the Provider
// interface, implemented over Docker by providers/docker. Nothing here is
// about Kubernetes; the create actions do that through nodes.Node.
package providers

import (
	"context"
	"errors"
	"io"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
)

// ErrEngineUnavailable is wrapped by every error a Provider returns when its
// container engine cannot be reached.
var ErrEngineUnavailable = errors.New("container engine unavailable")

// ErrImageNotFound is wrapped by ImageID when the image is not present.
var ErrImageNotFound = errors.New("image not found")

// Info describes the container engine.
type Info struct {
	Name          string // e.g. "docker"
	ServerVersion string
	APIVersion    string
	CgroupVersion string
	// Privileged tells whether node containers run --privileged; false
	// means the capability fallback of DESIGN.md §6. Known after the first
	// Provision of the process; false before.
	Privileged bool
}

// Provider creates and finds node containers. Implementations are safe for
// concurrent use; every method honours ctx.
type Provider interface {
	// Info checks the engine answers and describes it. An unreachable
	// engine is an error wrapping ErrEngineUnavailable that says what to do.
	Info(ctx context.Context) (*Info, error)
	// ImageID returns the ID of a local image, or an error wrapping
	// ErrImageNotFound. It never pulls.
	ImageID(ctx context.Context, ref string) (string, error)
	// SaveImages streams the images as one `docker save` archive.
	SaveImages(ctx context.Context, refs []string) (io.ReadCloser, error)
	// Provision creates and starts the node containers of a defaulted,
	// valid cluster config (network first, then all nodes in parallel),
	// and returns them. On error, containers already made are left for
	// the caller to delete (found by ListNodes).
	Provision(ctx context.Context, cfg *config.Cluster) ([]nodes.Node, error)
	// ListClusters returns the names of clusters that have node
	// containers, sorted. No clusters is an empty list, not an error.
	ListClusters(ctx context.Context) ([]string, error)
	// ListNodes returns the node containers of cluster, running or not,
	// sorted by name. An unknown cluster has no nodes (not an error).
	ListNodes(ctx context.Context, cluster string) ([]nodes.Node, error)
	// DeleteNodes removes node containers and their anonymous volumes.
	// Nodes already gone are not an error.
	DeleteNodes(ctx context.Context, n []nodes.Node) error
	// APIServerEndpoint returns the host:port the apiserver of cluster is
	// published on, from the control-plane container.
	APIServerEndpoint(ctx context.Context, cluster string) (string, error)
	// CollectLogs writes the engine's and each node's logs under dir.
	CollectLogs(ctx context.Context, dir string, n []nodes.Node) error
}
