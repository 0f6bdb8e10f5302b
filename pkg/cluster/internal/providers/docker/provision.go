package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/common"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
)

// apiServerPort is the apiserver's container port as Docker names it.
var apiServerPort = nat.Port(strconv.Itoa(constants.APIServerInternalPort) + "/tcp")

// nodePlan is everything needed to create one node container.
type nodePlan struct {
	name, role string
	config     *container.Config
	host       *container.HostConfig
	network    *network.NetworkingConfig
}

// Provision implements providers.Provider: it ensures the network, then
// creates the nodes. The first node of the process also finds out whether
// --privileged works here; the others are then created in parallel.
func (p *provider) Provision(ctx context.Context, cfg *config.Cluster) ([]nodes.Node, error) {
	if err := p.ensureNetwork(ctx, constants.NetworkName); err != nil {
		return nil, err
	}
	plans, err := planNodes(cfg, freePort, filepath.Abs)
	if err != nil {
		return nil, err
	}
	out := make([]nodes.Node, len(plans))
	start := 0
	p.mu.Lock()
	fromMemo := false
	if p.privileged == nil {
		if v, ok := p.readPrivilegedMemo(); ok {
			p.privileged, fromMemo = &v, true
		}
	}
	known := p.privileged != nil
	p.mu.Unlock()
	if !known {
		if err := p.createFirst(ctx, plans[0]); err != nil {
			return nil, err
		}
		out[0] = p.node(plans[0].name, plans[0].role)
		start = 1
	}
	p.mu.Lock()
	privileged := *p.privileged
	p.mu.Unlock()
	errs := make([]error, len(plans))
	var wg sync.WaitGroup
	for i := start; i < len(plans); i++ {
		wg.Go(func() {
			errs[i] = p.createNode(ctx, plans[i], privileged)
			out[i] = p.node(plans[i].name, plans[i].role)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if fromMemo {
			p.forgetPrivileged()
			return nil, fmt.Errorf("%w (kinc remembered that --privileged=%v works on this engine; the next create checks again)", err, privileged)
		}
		return nil, err
	}
	return out, nil
}

// forgetPrivileged drops what is known of --privileged, here and on disk.
func (p *provider) forgetPrivileged() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.privileged = nil
	if path := p.privilegedMemo(); path != "" {
		_ = os.Remove(path)
	}
}

// createFirst creates a node with --privileged and, when the engine cannot
// start privileged containers (DESIGN.md §6: "unable to apply caps" without
// CAP_SYS_RESOURCE), again with the capability fallback; it records which
// worked for the rest of the process.
func (p *provider) createFirst(ctx context.Context, plan nodePlan) error {
	perr := p.createNode(ctx, plan, true)
	if perr == nil {
		p.setPrivileged(true)
		return nil
	}
	p.logger.V(1).Infof("--privileged failed on this engine, using capabilities instead: %v", perr)
	if err := p.cli.ContainerRemove(ctx, plan.name, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		return engineError("remove node "+plan.name, err)
	}
	if err := p.createNode(ctx, plan, false); err != nil {
		return fmt.Errorf("%w (with --privileged: %v)", err, perr)
	}
	p.setPrivileged(false)
	return nil
}

func (p *provider) setPrivileged(v bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.privileged = &v
	p.writePrivilegedMemo(v)
}

// privilegedMemo is the file remembering whether --privileged works on the
// engine Info last saw, so that only the first create on an engine pays
// for finding out (a failed privileged start and its removal, and the
// first node created alone): <cacheDir>/engine-<docker info ID>.privileged
// holding "true" or "false". Callers hold p.mu.
func (p *provider) privilegedMemo() string {
	if p.cacheDir == "" || p.engineID == "" || strings.ContainsAny(p.engineID, `/\`) {
		return ""
	}
	return filepath.Join(p.cacheDir, "engine-"+p.engineID+".privileged")
}

func (p *provider) readPrivilegedMemo() (bool, bool) {
	path := p.privilegedMemo()
	if path == "" {
		return false, false
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, false
	}
	v, err := strconv.ParseBool(strings.TrimSpace(string(data)))
	return v, err == nil
}

// writePrivilegedMemo records v; a failure only costs the next create the
// probe again.
func (p *provider) writePrivilegedMemo(v bool) {
	path := p.privilegedMemo()
	if path == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		err = os.WriteFile(path, []byte(strconv.FormatBool(v)+"\n"), 0o644)
		if err == nil {
			return
		}
	}
	p.logger.V(1).Infof("could not remember in %s whether --privileged works", path)
}

func (p *provider) createNode(ctx context.Context, plan nodePlan, privileged bool) error {
	host := *plan.host
	applySecurity(&host, privileged)
	created, err := p.cli.ContainerCreate(ctx, plan.config, &host, plan.network, nil, plan.name)
	if err != nil {
		return engineError("create node "+plan.name, err)
	}
	if err := p.cli.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return engineError("start node "+plan.name, err)
	}
	return nil
}

// applySecurity sets --privileged, or DESIGN.md §6's equivalent for engines
// that cannot grant CAP_SYS_RESOURCE: every other capability, cgroups
// writable, and /proc and /sys unmasked and writable as --privileged leaves
// them (--security-opt systempaths=unconfined: the CNI portmap plugin behind hostPort
// writes net.ipv4.conf.*.route_localnet).
func applySecurity(h *container.HostConfig, privileged bool) {
	h.SecurityOpt = []string{"seccomp=unconfined", "apparmor=unconfined"}
	if privileged {
		h.Privileged = true
		return
	}
	// The API form of the CLI's --security-opt systempaths=unconfined:
	// empty (not nil) lists override the engine's defaults.
	h.MaskedPaths, h.ReadonlyPaths = []string{}, []string{}
	h.CapAdd = []string{"ALL"}
	h.CapDrop = []string{"SYS_RESOURCE"}
	h.Binds = append(h.Binds, "/sys/fs/cgroup:/sys/fs/cgroup:rw")
}

// planNodes turns a defaulted, valid config into container definitions.
// pickPort picks a free host port on an address; abs makes host paths
// absolute.
func planNodes(cfg *config.Cluster, pickPort func(addr string) (int, error), abs func(string) (string, error)) ([]nodePlan, error) {
	names := common.NodeNames(cfg)
	plans := make([]nodePlan, len(cfg.Nodes))
	for i, n := range cfg.Nodes {
		name, role := names[i], string(n.Role)
		c := &container.Config{
			Image:        n.Image,
			Hostname:     name,
			Tty:          true, // systemd writes its console to it: `docker logs` shows boot
			Env:          []string{"container=docker"},
			StopSignal:   "SIGRTMIN+3",
			Labels:       map[string]string{constants.ClusterLabelKey: cfg.Name, constants.RoleLabelKey: role},
			Volumes:      map[string]struct{}{"/var": {}}, // overlay on overlay fails for nested containerd
			ExposedPorts: nat.PortSet{},
		}
		h := &container.HostConfig{
			Tmpfs:        map[string]string{"/run": "", "/tmp": ""},
			Binds:        []string{"/lib/modules:/lib/modules:ro"},
			CgroupnsMode: container.CgroupnsModePrivate,
			Init:         new(bool), // systemd must be PID 1
			// on-failure:1 restarts a node after a dockerd or host restart
			// only (kind's reasoning: on-failure:0 means "always").
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 1},
			PortBindings:  nat.PortMap{},
		}
		for _, m := range n.ExtraMounts {
			bind, err := bindSpec(m, abs)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", name, err)
			}
			h.Binds = append(h.Binds, bind)
		}
		for _, pm := range n.ExtraPortMappings {
			port := nat.Port(fmt.Sprintf("%d/%s", pm.ContainerPort, strings.ToLower(string(pm.Protocol))))
			hostPort, err := hostPortFor(pm.ListenAddress, pm.HostPort, pickPort)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", name, err)
			}
			c.ExposedPorts[port] = struct{}{}
			h.PortBindings[port] = append(h.PortBindings[port], nat.PortBinding{HostIP: pm.ListenAddress, HostPort: hostPort})
		}
		if n.Role == config.ControlPlaneRole {
			addr := cfg.Networking.APIServerAddress
			hostPort, err := hostPortFor(addr, cfg.Networking.APIServerPort, pickPort)
			if err != nil {
				return nil, fmt.Errorf("node %s: %w", name, err)
			}
			c.ExposedPorts[apiServerPort] = struct{}{}
			h.PortBindings[apiServerPort] = append(h.PortBindings[apiServerPort], nat.PortBinding{HostIP: addr, HostPort: hostPort})
			c.Env = append(c.Env, "KUBECONFIG=/etc/kubernetes/admin.conf")
		}
		plans[i] = nodePlan{
			name: name, role: role, config: c, host: h,
			network: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{constants.NetworkName: {}}},
		}
	}
	return plans, nil
}

// hostPortFor returns the host port to publish: a fixed one, a free one
// picked now for 0, or "" (Docker picks) for -1.
func hostPortFor(addr string, port int32, pickPort func(string) (int, error)) (string, error) {
	switch {
	case port > 0:
		return strconv.Itoa(int(port)), nil
	case port == -1:
		return "", nil
	}
	free, err := pickPort(addr)
	if err != nil {
		return "", fmt.Errorf("pick a free port on %s: %w", addr, err)
	}
	return strconv.Itoa(free), nil
}

// bindSpec renders an extra mount as Docker's host:container[:options].
func bindSpec(m config.Mount, abs func(string) (string, error)) (string, error) {
	host, err := abs(m.HostPath)
	if err != nil {
		return "", fmt.Errorf("extra mount %s: %w", m.HostPath, err)
	}
	var opts []string
	if m.ReadOnly {
		opts = append(opts, "ro")
	}
	if m.SelinuxRelabel {
		opts = append(opts, "Z")
	}
	switch m.Propagation {
	case config.MountPropagationHostToContainer:
		opts = append(opts, "rslave")
	case config.MountPropagationBidirectional:
		opts = append(opts, "rshared")
	}
	spec := host + ":" + m.ContainerPath
	if len(opts) > 0 {
		spec += ":" + strings.Join(opts, ",")
	}
	return spec, nil
}
