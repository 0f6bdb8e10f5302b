// Package export is the `kinc export` command group.
package export

import (
	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/export/kubeconfig"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/export/logs"
	"github.com/kinc-dev/kinc/pkg/log"
)

// NewCommand returns `kinc export`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "export",
		Short: "Exports one of [kubeconfig, logs]",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	c.AddCommand(kubeconfig.NewCommand(logger, streams))
	c.AddCommand(logs.NewCommand(logger, streams))
	return c
}
