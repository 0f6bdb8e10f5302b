// Package build implements `kinc build`, the parent of kinc's image-building
// commands.
package build

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/build/nodeimage"
	"github.com/kinc-dev/kinc/pkg/log"
)

// NewCommand returns `kinc build` with its subcommands.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "build",
		Short: "Build one of [node-image]",
		Long:  "Build one of [node-image]",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := c.Help(); err != nil {
				return err
			}
			return errors.New("subcommand is required")
		},
	}
	c.AddCommand(nodeimage.NewCommand(logger, streams))
	return c
}
