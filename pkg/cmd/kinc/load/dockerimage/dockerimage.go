// Package dockerimage is `kinc load docker-image`.
package dockerimage

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
)

type flagpole struct {
	name  string
	nodes []string
}

// NewCommand returns `kinc load docker-image`.
func NewCommand(logger log.Logger, _ cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "docker-image <IMAGE> [IMAGE...]",
		Short: "Loads local Docker images into the nodes' containerd",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name := cli.ClusterName(c.Flags(), flags.name, os.Getenv)
			p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
			if err != nil {
				return err
			}
			return p.LoadImages(c.Context(), name, args, flags.nodes)
		},
	}
	c.Flags().StringVarP(&flags.name, "name", "n", constants.DefaultClusterName, "the cluster name")
	c.Flags().StringSliceVar(&flags.nodes, "nodes", nil, "comma separated list of nodes to load images into (default: all)")
	return c
}
