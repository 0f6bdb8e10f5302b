package docker

import (
	"context"
	"net"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/errdefs"
)

// ensureNetwork creates the shared bridge network when it does not exist.
// Two kinc processes may race to create it; the loser finds it made.
func (p *provider) ensureNetwork(ctx context.Context, name string) error {
	exists, err := p.networkExists(ctx, name)
	if err != nil || exists {
		return err
	}
	_, err = p.cli.NetworkCreate(ctx, name, network.CreateOptions{
		Driver:  "bridge",
		Options: map[string]string{"com.docker.network.bridge.enable_ip_masquerade": "true"},
	})
	if err != nil && !errdefs.IsConflict(err) {
		if exists, _ := p.networkExists(ctx, name); exists {
			return nil
		}
		return engineError("create docker network "+name, err)
	}
	return nil
}

func (p *provider) networkExists(ctx context.Context, name string) (bool, error) {
	// The name filter matches substrings; compare exactly.
	list, err := p.cli.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("name", name))})
	if err != nil {
		return false, engineError("list docker networks", err)
	}
	for _, n := range list {
		if n.Name == name {
			return true, nil
		}
	}
	return false, nil
}

// freePort returns a TCP port that is free on addr now, by listening on
// port 0 and closing the listener (kind does the same).
func freePort(addr string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
