package docker

import (
	"context"
	"fmt"
	"net"
	"os"

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
	ipam, err := p.freeSubnet(ctx, name)
	if err != nil {
		return err
	}
	_, err = p.cli.NetworkCreate(ctx, name, network.CreateOptions{
		Driver:  "bridge",
		Options: map[string]string{"com.docker.network.bridge.enable_ip_masquerade": "true"},
		IPAM:    ipam,
	})
	if err != nil && !errdefs.IsConflict(err) {
		if exists, _ := p.networkExists(ctx, name); exists {
			return nil
		}
		return engineError("create docker network "+name, err)
	}
	return nil
}

// freeSubnet returns the IPv4 subnet the engine would give a new bridge
// network now (one free of its other networks and of the host's routes,
// by the engine's own rules), as an IPAM configuration that makes it the
// network's user-configured subnet. It asks the engine by creating and
// removing a throwaway network. A user-configured subnet is what lets a
// container be connected with a fixed address (docker run --ip), which
// an engine refuses on a network whose subnet it chose itself.
func (p *provider) freeSubnet(ctx context.Context, name string) (*network.IPAM, error) {
	probe := fmt.Sprintf("%s-subnet-probe-%d", name, os.Getpid())
	created, err := p.cli.NetworkCreate(ctx, probe, network.CreateOptions{Driver: "bridge"})
	if err != nil {
		return nil, engineError("create docker network "+probe, err)
	}
	defer func() { _ = p.cli.NetworkRemove(context.WithoutCancel(ctx), created.ID) }()
	info, err := p.cli.NetworkInspect(ctx, created.ID, network.InspectOptions{})
	if err != nil {
		return nil, engineError("inspect docker network "+probe, err)
	}
	for _, c := range info.IPAM.Config {
		if ip, _, err := net.ParseCIDR(c.Subnet); err == nil && ip.To4() != nil {
			if err := p.cli.NetworkRemove(ctx, created.ID); err != nil {
				return nil, engineError("remove docker network "+probe, err)
			}
			return &network.IPAM{Driver: "default", Config: []network.IPAMConfig{{Subnet: c.Subnet, Gateway: c.Gateway}}}, nil
		}
	}
	return nil, fmt.Errorf("docker network %s got no IPv4 subnet from the engine", probe)
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
