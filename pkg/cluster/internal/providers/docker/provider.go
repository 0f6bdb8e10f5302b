// Package docker implements providers.Provider over the Docker Engine API
// (github.com/docker/docker/client, with API version negotiation so engines
// as old as API 1.41 work). Node containers carry all cluster state in their
// labels; nothing is kept on the host.
package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/log"
)

// provider implements providers.Provider over a Docker client.
type provider struct {
	logger log.Logger
	cli    *client.Client

	// cacheDir holds what kinc learnt about engines (privilegedMemo); empty
	// means nothing is remembered across processes.
	cacheDir string

	mu sync.Mutex // guards privileged and engineID
	// privileged is whether --privileged works on this engine: nil until the
	// first node was created (see createFirst) or the memo was read.
	privileged *bool
	// engineID is the engine's `docker info` ID, once Info has run.
	engineID string
}

var _ providers.Provider = &provider{}

// NewProvider returns a Provider using the Docker engine the environment
// names (DOCKER_HOST etc., as the docker CLI does).
func NewProvider(logger log.Logger) (providers.Provider, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("%w: docker client: %v", providers.ErrEngineUnavailable, err)
	}
	cacheDir := ""
	if dir, err := os.UserCacheDir(); err == nil {
		cacheDir = filepath.Join(dir, "kinc")
	}
	return &provider{logger: logger, cli: cli, cacheDir: cacheDir}, nil
}

// engineError wraps an error from the engine; an unreachable engine becomes
// ErrEngineUnavailable with what to do about it.
func engineError(op string, err error) error {
	if client.IsErrConnectionFailed(err) {
		return fmt.Errorf("%w: %s: %v\n\nStart Docker (e.g. `sudo systemctl start docker`, or Docker Desktop); "+
			"in a kinc checkout on Debian, hack/ensure-docker.sh installs and starts it", providers.ErrEngineUnavailable, op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Info implements providers.Provider.
func (p *provider) Info(ctx context.Context) (*providers.Info, error) {
	if _, err := p.cli.Ping(ctx); err != nil {
		return nil, engineError("docker ping", err)
	}
	info, err := p.cli.Info(ctx)
	if err != nil {
		return nil, engineError("docker info", err)
	}
	p.mu.Lock()
	p.engineID = info.ID
	priv := p.privileged != nil && *p.privileged
	p.mu.Unlock()
	return &providers.Info{
		Name:          "docker",
		ServerVersion: info.ServerVersion,
		APIVersion:    p.cli.ClientVersion(),
		CgroupVersion: info.CgroupVersion,
		Privileged:    priv,
	}, nil
}

func clusterFilter(cluster string) filters.Args {
	if cluster == "" {
		return filters.NewArgs(filters.Arg("label", constants.ClusterLabelKey))
	}
	return filters.NewArgs(filters.Arg("label", constants.ClusterLabelKey+"="+cluster))
}

// ListClusters implements providers.Provider.
func (p *provider) ListClusters(ctx context.Context) ([]string, error) {
	list, err := p.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: clusterFilter("")})
	if err != nil {
		return nil, engineError("list node containers", err)
	}
	seen := map[string]bool{}
	names := []string{}
	for _, c := range list {
		name := c.Labels[constants.ClusterLabelKey]
		if name != "" && !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// ListNodes implements providers.Provider.
func (p *provider) ListNodes(ctx context.Context, cluster string) ([]nodes.Node, error) {
	if cluster == "" {
		return nil, errors.New("list nodes: empty cluster name")
	}
	list, err := p.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: clusterFilter(cluster)})
	if err != nil {
		return nil, engineError("list node containers", err)
	}
	out := make([]nodes.Node, 0, len(list))
	for _, c := range list {
		name := c.ID
		if len(c.Names) > 0 {
			name = trimSlash(c.Names[0])
		}
		out = append(out, p.node(name, c.Labels[constants.RoleLabelKey]))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// DeleteNodes implements providers.Provider.
func (p *provider) DeleteNodes(ctx context.Context, list []nodes.Node) error {
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, n := range list {
		wg.Go(func() {
			err := p.cli.ContainerRemove(ctx, n.String(), container.RemoveOptions{Force: true, RemoveVolumes: true})
			if err != nil && !client.IsErrNotFound(err) {
				errs[i] = engineError("delete node "+n.String(), err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// APIServerEndpoint implements providers.Provider.
func (p *provider) APIServerEndpoint(ctx context.Context, cluster string) (string, error) {
	list, err := p.ListNodes(ctx, cluster)
	if err != nil {
		return "", err
	}
	for _, n := range list {
		if n.Role() != constants.ControlPlaneRole {
			continue
		}
		info, err := p.cli.ContainerInspect(ctx, n.String())
		if err != nil {
			return "", engineError("inspect "+n.String(), err)
		}
		if info.NetworkSettings != nil {
			for _, b := range info.NetworkSettings.Ports[apiServerPort] {
				host := b.HostIP
				if host == "" || host == "0.0.0.0" {
					host = "127.0.0.1"
				}
				return host + ":" + b.HostPort, nil
			}
		}
		return "", fmt.Errorf("node %s publishes no port for %s (is it running?)", n, apiServerPort)
	}
	return "", fmt.Errorf("cluster %q has no control-plane node", cluster)
}
