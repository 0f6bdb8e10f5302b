package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	internalcreate "github.com/kinc-dev/kinc/pkg/cluster/internal/create"
	internalkubeconfig "github.com/kinc-dev/kinc/pkg/cluster/internal/kubeconfig"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/docker"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
	"github.com/kinc-dev/kinc/pkg/version"
)

// Errors callers may test for with errors.Is.
var (
	// ErrEngineUnavailable: Docker is missing or not running.
	ErrEngineUnavailable = providers.ErrEngineUnavailable
	// ErrClusterExists: create found nodes of a cluster with the name.
	ErrClusterExists = internalcreate.ErrClusterExists
	// ErrNodeImageMissing: create found no local node image.
	ErrNodeImageMissing = internalcreate.ErrNodeImageMissing
	// ErrImageNotFound: an image to load is not present locally.
	ErrImageNotFound = providers.ErrImageNotFound
)

// DefaultNodeImage is the node image of this kinc version, as `kinc build
// node-image` (make node-image) names it.
func DefaultNodeImage() string { return version.NodeImage() }

// Provider manages clusters on a container engine. Safe for concurrent use.
type Provider struct {
	logger  log.Logger
	p       providers.Provider
	getenv  func(string) string
	homeDir func() (string, error)
}

// ProviderOption configures NewProvider.
type ProviderOption func(*Provider)

// ProviderWithLogger sets the logger (default: none).
func ProviderWithLogger(l log.Logger) ProviderOption { return func(p *Provider) { p.logger = l } }

// ProviderWithEnv sets the environment and home-directory seams used to find
// the kubeconfig (default os.Getenv and os.UserHomeDir).
func ProviderWithEnv(getenv func(string) string, homeDir func() (string, error)) ProviderOption {
	return func(p *Provider) { p.getenv, p.homeDir = getenv, homeDir }
}

// providerWithInternal replaces the node provider (tests).
func providerWithInternal(ip providers.Provider) ProviderOption {
	return func(p *Provider) { p.p = ip }
}

// NewProvider returns a Provider using Docker.
func NewProvider(opts ...ProviderOption) (*Provider, error) {
	p := &Provider{logger: log.NoopLogger{}, getenv: os.Getenv, homeDir: os.UserHomeDir}
	for _, o := range opts {
		o(p)
	}
	if p.p == nil {
		dp, err := docker.NewProvider(p.logger)
		if err != nil {
			return nil, err
		}
		p.p = dp
	}
	return p, nil
}

// Create creates a cluster named name (empty: the config's name, else
// "kinc"). See the CreateWith options.
func (p *Provider) Create(ctx context.Context, name string, opts ...CreateOption) error {
	o := &internalcreate.Options{NameOverride: name, DefaultNodeImage: DefaultNodeImage()}
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return err
		}
	}
	if o.KubeconfigPath == "" {
		path, err := kubeconfig.ResolvePath(p.getenv, p.homeDir)
		if err != nil {
			return err
		}
		o.KubeconfigPath = path
	}
	return internalcreate.Cluster(ctx, p.logger, p.p, *o)
}

// Delete removes cluster name's nodes (containers and their volumes) and
// its kubeconfig entries from explicitKubeconfigPath, or from every
// $KUBECONFIG file and ~/.kube/config. Nothing to delete is not an error.
func (p *Provider) Delete(ctx context.Context, name, explicitKubeconfigPath string) error {
	list, err := p.p.ListNodes(ctx, name)
	if err != nil {
		return fmt.Errorf("delete cluster %q: %w", name, err)
	}
	kerr := internalkubeconfig.Remove(name, internalkubeconfig.Paths(explicitKubeconfigPath, p.getenv, p.homeDir))
	if err := p.p.DeleteNodes(ctx, list); err != nil {
		return errors.Join(fmt.Errorf("delete cluster %q: %w", name, err), kerr)
	}
	return kerr
}

// List returns the names of existing clusters, sorted.
func (p *Provider) List(ctx context.Context) ([]string, error) {
	return p.p.ListClusters(ctx)
}

// ListNodes returns cluster name's nodes, sorted by name.
func (p *Provider) ListNodes(ctx context.Context, name string) ([]nodes.Node, error) {
	return p.p.ListNodes(ctx, name)
}

// ListAllNodes returns the nodes of every cluster, sorted by name.
func (p *Provider) ListAllNodes(ctx context.Context) ([]nodes.Node, error) {
	clusters, err := p.p.ListClusters(ctx)
	if err != nil {
		return nil, err
	}
	var all []nodes.Node
	for _, c := range clusters {
		list, err := p.p.ListNodes(ctx, c)
		if err != nil {
			return nil, err
		}
		all = append(all, list...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].String() < all[j].String() })
	return all, nil
}

// KubeConfig returns cluster name's kubeconfig (context kinc-<name>), for
// the host or, with internal, for the kinc network.
func (p *Provider) KubeConfig(ctx context.Context, name string, internal bool) (string, error) {
	cfg, err := internalkubeconfig.Get(ctx, p.p, name, internal)
	if err != nil {
		return "", err
	}
	data, err := kubeconfig.Serialize(cfg)
	if err != nil {
		return "", err
	}
	return string(data), nil
}

// ExportKubeConfig merges cluster name's kubeconfig into
// explicitKubeconfigPath (or the default kubeconfig) and makes its context
// current.
func (p *Provider) ExportKubeConfig(ctx context.Context, name, explicitKubeconfigPath string, internal bool) error {
	path := explicitKubeconfigPath
	if path == "" {
		var err error
		if path, err = kubeconfig.ResolvePath(p.getenv, p.homeDir); err != nil {
			return err
		}
	}
	return internalkubeconfig.Export(ctx, p.p, name, path, internal)
}
