// Package cluster is `kinc create cluster`.
package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
)

type flagpole struct {
	name       string
	config     string
	image      string
	retain     bool
	wait       time.Duration
	kubeconfig string
}

// NewCommand returns `kinc create cluster`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Creates a local Kubernetes cluster",
		Long:  "Creates a local Kubernetes cluster whose nodes are Docker containers, from a kind v1alpha4 config (--config) or the defaults (one control-plane node).",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			flags.name = cli.ClusterName(c.Flags(), flags.name, os.Getenv)
			return runE(c.Context(), logger, streams, flags)
		},
	}
	c.Flags().StringVarP(&flags.name, "name", "n", "", "cluster name, overrides KINC_CLUSTER_NAME and the config (default kinc)")
	c.Flags().StringVar(&flags.config, "config", "", "path to a kind v1alpha4 cluster config file, or - for stdin")
	c.Flags().StringVar(&flags.image, "image", "", "node image to use for every node, overrides the config")
	c.Flags().BoolVar(&flags.retain, "retain", false, "retain nodes for debugging when cluster creation fails")
	c.Flags().DurationVar(&flags.wait, "wait", 0, "wait for the nodes to be Ready (default 0s)")
	c.Flags().StringVar(&flags.kubeconfig, "kubeconfig", "", "kubeconfig to update instead of $KUBECONFIG or $HOME/.kube/config")
	return c
}

// Options turns the flags into create options, reading the config (from
// in for "-").
func Options(flags *flagpole, in io.Reader) ([]cluster.CreateOption, error) {
	opts := []cluster.CreateOption{
		cluster.CreateWithNodeImage(flags.image),
		cluster.CreateWithRetain(flags.retain),
		cluster.CreateWithWaitForReady(flags.wait),
		cluster.CreateWithKubeconfigPath(flags.kubeconfig),
	}
	switch flags.config {
	case "":
	case "-":
		data, err := io.ReadAll(in)
		if err != nil {
			return nil, fmt.Errorf("read cluster config from stdin: %w", err)
		}
		opts = append(opts, cluster.CreateWithRawConfig(data))
	default:
		opts = append(opts, cluster.CreateWithConfigFile(flags.config))
	}
	return opts, nil
}

func runE(ctx context.Context, logger log.Logger, streams cmd.IOStreams, flags *flagpole) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts, err := Options(flags, streams.In)
	if err != nil {
		return err
	}
	p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
	if err != nil {
		return err
	}
	return p.Create(ctx, flags.name, opts...)
}
