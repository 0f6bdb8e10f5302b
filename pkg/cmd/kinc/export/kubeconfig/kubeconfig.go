// Package kubeconfig is `kinc export kubeconfig`.
package kubeconfig

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
)

type flagpole struct {
	name       string
	kubeconfig string
	internal   bool
}

// NewCommand returns `kinc export kubeconfig`.
func NewCommand(logger log.Logger, _ cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Merges a cluster's kubeconfig into yours and makes it the current context",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			name := cli.ClusterName(c.Flags(), flags.name, os.Getenv)
			p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
			if err != nil {
				return err
			}
			if err := p.ExportKubeConfig(c.Context(), name, flags.kubeconfig, flags.internal); err != nil {
				return err
			}
			logger.V(0).Infof("Set kubectl context to %q", kubeconfig.ContextName(name))
			return nil
		},
	}
	c.Flags().StringVarP(&flags.name, "name", "n", constants.DefaultClusterName, "the cluster name")
	c.Flags().StringVar(&flags.kubeconfig, "kubeconfig", "", "kubeconfig to update instead of $KUBECONFIG or $HOME/.kube/config")
	c.Flags().BoolVar(&flags.internal, "internal", false, "use the address inside the kinc network (<name>-control-plane:6443)")
	return c
}
