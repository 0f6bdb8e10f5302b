// Package kubeconfig is `kinc get kubeconfig`.
package kubeconfig

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
)

type flagpole struct {
	name     string
	internal bool
}

// NewCommand returns `kinc get kubeconfig`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Prints a cluster's kubeconfig",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			name := cli.ClusterName(c.Flags(), flags.name, os.Getenv)
			p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
			if err != nil {
				return err
			}
			cfg, err := p.KubeConfig(c.Context(), name, flags.internal)
			if err != nil {
				return err
			}
			fmt.Fprint(streams.Out, cfg)
			return nil
		},
	}
	c.Flags().StringVarP(&flags.name, "name", "n", constants.DefaultClusterName, "the cluster name")
	c.Flags().BoolVar(&flags.internal, "internal", false, "use the address inside the kinc network (<name>-control-plane:6443)")
	return c
}
