// Package cluster is `kinc delete cluster`.
package cluster

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
	name       string
	kubeconfig string
}

// NewCommand returns `kinc delete cluster`.
func NewCommand(logger log.Logger, _ cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "cluster",
		Short: "Deletes a cluster",
		Long:  "Deletes a cluster's node containers, their volumes and its kubeconfig entries. Deleting a cluster that does not exist succeeds.",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			name := cli.ClusterName(c.Flags(), flags.name, os.Getenv)
			p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
			if err != nil {
				return err
			}
			logger.V(0).Infof("Deleting cluster %q ...", name)
			return p.Delete(c.Context(), name, flags.kubeconfig)
		},
	}
	c.Flags().StringVarP(&flags.name, "name", "n", constants.DefaultClusterName, "the cluster name")
	c.Flags().StringVar(&flags.kubeconfig, "kubeconfig", "", "kubeconfig to remove the cluster from instead of $KUBECONFIG and $HOME/.kube/config")
	return c
}
