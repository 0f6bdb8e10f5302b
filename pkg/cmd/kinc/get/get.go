// Package get is the `kinc get` command group.
package get

import (
	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/get/clusters"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/get/kubeconfig"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/get/nodes"
	"github.com/kinc-dev/kinc/pkg/log"
)

// NewCommand returns `kinc get`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "get",
		Short: "Gets one of [clusters, nodes, kubeconfig]",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(clusters.NewCommand(logger, streams))
	c.AddCommand(nodes.NewCommand(logger, streams))
	c.AddCommand(kubeconfig.NewCommand(logger, streams))
	return c
}
