// Package create creates a cluster: checks that can fail without side
// effects first (engine, config, name in use, node image), then the ordered
// steps of package actions, then the user's kubeconfig. When a step fails
// the nodes are deleted unless Retain is set.
package create

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions"
	configaction "github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/config"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/controlplane"
	pkiaction "github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/pki"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/provision"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/create/actions/waitforready"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/nodeconfig"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/common"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
	"github.com/kinc-dev/kinc/pkg/version"
)

// ErrClusterExists is wrapped when nodes of a cluster with the name exist.
var ErrClusterExists = errors.New("cluster already exists")

// ErrNodeImageMissing is wrapped when a node image is not present locally.
var ErrNodeImageMissing = errors.New("node image not present locally")

// clusterNameMax is the longest cluster name kinc does not warn about
// (kind's limit).
const clusterNameMax = 50

// Options are one create's settings.
type Options struct {
	// Config is the loaded (not yet defaulted) cluster config; nil: empty.
	Config *config.Cluster
	// NameOverride and NodeImage override the config's name and every
	// node's image when not empty.
	NameOverride string
	NodeImage    string
	// DefaultNodeImage is the image of nodes that name none.
	DefaultNodeImage string
	// Retain keeps the nodes when a step fails.
	Retain bool
	// WaitForReady waits for the nodes to be Ready (0: not at all).
	WaitForReady time.Duration
	// KubeconfigPath is the kubeconfig to merge into (already resolved).
	KubeconfigPath string
	// PollInterval, BootTimeout and ReadyTimeout tune the waits; zero
	// means 250ms, 1m and 3m.
	PollInterval, BootTimeout, ReadyTimeout time.Duration
	// StopBeforeKubernetes runs only the step that creates the nodes.
	StopBeforeKubernetes bool
	// Actions replaces the steps (tests); nil means the real ones.
	Actions []Step
	// Logger receives warnings of Prepare; Cluster sets it.
	Logger log.Logger
}

// Step is a named action; the name appears in the error when it fails.
type Step struct {
	Name   string
	Action actions.Action
}

// DefaultSteps are the steps of a create, in order.
func DefaultSteps() []Step {
	return []Step{
		{"prepare nodes", provision.NewAction()},
		{"generate certificates", pkiaction.NewAction()},
		{"write configuration", configaction.NewAction()},
		{"start control-plane", controlplane.NewAction()},
		{"wait for nodes Ready", waitforready.NewAction()},
	}
}

// Cluster creates the cluster described by opts.
func Cluster(ctx context.Context, logger log.Logger, p providers.Provider, opts Options) error {
	status := cli.StatusForLogger(logger)
	opts.Logger = logger
	cfg, nodeConfigs, err := Prepare(ctx, p, opts)
	if err != nil {
		return err
	}
	actx := &actions.ActionContext{
		Logger: logger, Status: status, Config: cfg, Provider: p, NodeConfigs: nodeConfigs,
		PollInterval: orDefault(opts.PollInterval, 250*time.Millisecond),
		BootTimeout:  orDefault(opts.BootTimeout, time.Minute),
		ReadyTimeout: orDefault(opts.ReadyTimeout, 3*time.Minute),
		WaitForReady: opts.WaitForReady,
	}
	logger.V(0).Infof("Creating cluster %q ...", cfg.Name)
	steps := opts.Actions
	if steps == nil {
		steps = DefaultSteps()
	}
	if opts.StopBeforeKubernetes {
		steps = steps[:1]
	}
	for _, s := range steps {
		if err := s.Action.Execute(ctx, actx); err != nil {
			status.End(false)
			err = fmt.Errorf("create cluster %q: step %q failed: %w", cfg.Name, s.Name, err)
			if opts.Retain {
				return fmt.Errorf("%w\n\nthe nodes were kept (--retain): `kinc export logs --name %s` collects their logs, `kinc delete cluster --name %s` removes them", err, cfg.Name, cfg.Name)
			}
			cleanupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			if derr := deleteNodes(cleanupCtx, p, cfg.Name); derr != nil {
				return errors.Join(err, fmt.Errorf("clean up after the failure: %w", derr))
			}
			return err
		}
	}
	status.End(true)
	if err := exportKubeconfig(ctx, p, actx.PKI, cfg.Name, opts.KubeconfigPath); err != nil {
		return fmt.Errorf("create cluster %q: %w", cfg.Name, err)
	}
	ctxName := kubeconfig.ContextName(cfg.Name)
	logger.V(0).Infof("Set kubectl context to %q", ctxName)
	logger.V(0).Infof("You can now use your cluster with:\n\nkubectl cluster-info --context %s\n", ctxName)
	return nil
}

// Prepare does every check that needs no side effect and returns the
// defaulted config and its node descriptions: config valid (including what
// the kubelet and static pods would reject), engine reachable, name not in
// use, node images present.
func Prepare(ctx context.Context, p providers.Provider, opts Options) (*config.Cluster, []nodeconfig.Node, error) {
	cfg := &config.Cluster{}
	if opts.Config != nil {
		c := *opts.Config
		c.Nodes = append([]config.Node(nil), opts.Config.Nodes...)
		cfg = &c
	}
	if opts.NameOverride != "" {
		cfg.Name = opts.NameOverride
	}
	config.SetDefaults(cfg, opts.DefaultNodeImage)
	if opts.NodeImage != "" {
		for i := range cfg.Nodes {
			cfg.Nodes[i].Image = opts.NodeImage
		}
	}
	if err := config.Validate(cfg); err != nil {
		return nil, nil, fmt.Errorf("invalid cluster config:\n%w", err)
	}
	if opts.Logger == nil {
		opts.Logger = log.NoopLogger{}
	}
	// Node names are hostnames: <name>-control-plane must stay within 63.
	if len(cfg.Name) > clusterNameMax {
		opts.Logger.Warnf("cluster name %q is long (%d characters); keep it within %d so that node hostnames stay valid", cfg.Name, len(cfg.Name), clusterNameMax)
	}
	nodeConfigs, err := nodeconfig.Nodes(cfg, common.NodeNames(cfg))
	if err == nil {
		err = nodeconfig.Check(cfg, nodeConfigs)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("invalid cluster config:\n%w", err)
	}
	if _, err := p.Info(ctx); err != nil {
		return nil, nil, err
	}
	existing, err := p.ListNodes(ctx, cfg.Name)
	if err != nil {
		return nil, nil, err
	}
	if len(existing) > 0 {
		return nil, nil, fmt.Errorf("%w: node(s) already exist for a cluster with the name %q; delete it first with `kinc delete cluster --name %s`, or pick another --name",
			ErrClusterExists, cfg.Name, cfg.Name)
	}
	if err := checkImages(ctx, p, cfg, opts.DefaultNodeImage, opts.Logger); err != nil {
		return nil, nil, err
	}
	return cfg, nodeConfigs, nil
}

// LatestNodeImage is what `kinc build node-image` also tags its image: used
// when the image of this exact kinc version (stamped with its commit) is
// missing, e.g. after a commit with no rebuild.
const LatestNodeImage = version.LatestNodeImage

func checkImages(ctx context.Context, p providers.Provider, cfg *config.Cluster, defaultImage string, logger log.Logger) error {
	if _, err := p.ImageID(ctx, defaultImage); errors.Is(err, providers.ErrImageNotFound) && usesImage(cfg, defaultImage) {
		if _, err := p.ImageID(ctx, LatestNodeImage); err == nil {
			logger.Warnf("node image %s is not present; using %s instead", defaultImage, LatestNodeImage)
			for i := range cfg.Nodes {
				if cfg.Nodes[i].Image == defaultImage {
					cfg.Nodes[i].Image = LatestNodeImage
				}
			}
		}
	}
	seen := map[string]bool{}
	var missing []string
	for _, n := range cfg.Nodes {
		if seen[n.Image] {
			continue
		}
		seen[n.Image] = true
		if _, err := p.ImageID(ctx, n.Image); err != nil {
			if !errors.Is(err, providers.ErrImageNotFound) {
				return err
			}
			missing = append(missing, n.Image)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	hint := "build it with `make node-image` (or `kinc build node-image`); kinc never pulls node images"
	if len(missing) > 1 || missing[0] != defaultImage {
		hint = "build it with `kinc build node-image --image <name>` or load it with `docker load`; kinc never pulls node images"
	}
	return fmt.Errorf("%w: %q; %s", ErrNodeImageMissing, missing[0], hint)
}

func usesImage(cfg *config.Cluster, image string) bool {
	for _, n := range cfg.Nodes {
		if n.Image == image {
			return true
		}
	}
	return false
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func deleteNodes(ctx context.Context, p providers.Provider, name string) error {
	list, err := p.ListNodes(ctx, name)
	if err != nil {
		return err
	}
	return p.DeleteNodes(ctx, list)
}

// exportKubeconfig merges the cluster's admin credentials, reaching the
// apiserver through its published port, into the user's kubeconfig as
// context kinc-<name>, made current.
func exportKubeconfig(ctx context.Context, p providers.Provider, tree *pki.ClusterPKI, name, path string) error {
	if tree == nil || path == "" {
		return nil
	}
	endpoint, err := p.APIServerEndpoint(ctx, name)
	if err != nil {
		return err
	}
	cfg, err := tree.AdminKubeconfig("https://"+endpoint, kubeconfig.ContextName(name))
	if err != nil {
		return err
	}
	if err := kubeconfig.Merge(path, cfg, true); err != nil {
		return fmt.Errorf("export kubeconfig to %s: %w", path, err)
	}
	return nil
}
