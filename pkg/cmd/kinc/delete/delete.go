// Package delete is the `kinc delete` command group.
package delete

import (
	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	deletecluster "github.com/kinc-dev/kinc/pkg/cmd/kinc/delete/cluster"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/delete/clusters"
	"github.com/kinc-dev/kinc/pkg/log"
)

// NewCommand returns `kinc delete`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "delete",
		Short: "Deletes one of [cluster, clusters]",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(deletecluster.NewCommand(logger, streams))
	c.AddCommand(clusters.NewCommand(logger, streams))
	return c
}
