// Package nodes is `kinc get nodes`.
package nodes

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
)

type flagpole struct {
	name        string
	allClusters bool
}

// NewCommand returns `kinc get nodes`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "nodes",
		Short: "Lists the node containers of a cluster",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			name := cli.ClusterName(c.Flags(), flags.name, os.Getenv)
			p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
			if err != nil {
				return err
			}
			var list []nodes.Node
			if flags.allClusters {
				list, err = p.ListAllNodes(c.Context())
			} else {
				list, err = p.ListNodes(c.Context(), name)
			}
			if err != nil {
				return err
			}
			if len(list) == 0 {
				if flags.allClusters {
					logger.V(0).Info("No kinc nodes found.")
				} else {
					logger.V(0).Infof("No kinc nodes found for cluster %q.", name)
				}
			}
			for _, n := range list {
				fmt.Fprintln(streams.Out, n.String())
			}
			return nil
		},
	}
	c.Flags().StringVarP(&flags.name, "name", "n", constants.DefaultClusterName, "the cluster name")
	c.Flags().BoolVarP(&flags.allClusters, "all-clusters", "A", false, "list the nodes of every cluster")
	return c
}
