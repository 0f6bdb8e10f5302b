// Package create is the `kinc create` command group.
package create

import (
	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/create/cluster"
	"github.com/kinc-dev/kinc/pkg/log"
)

// NewCommand returns `kinc create`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "create",
		Short: "Creates one of [cluster]",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(cluster.NewCommand(logger, streams))
	return c
}
