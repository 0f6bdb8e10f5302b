// Package load is the `kinc load` command group.
package load

import (
	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/load/dockerimage"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/load/imagearchive"
	"github.com/kinc-dev/kinc/pkg/log"
)

// NewCommand returns `kinc load`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "load",
		Short: "Loads images into nodes",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(dockerimage.NewCommand(logger, streams))
	c.AddCommand(imagearchive.NewCommand(logger, streams))
	return c
}
