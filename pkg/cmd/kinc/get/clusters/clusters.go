// Package clusters is `kinc get clusters`.
package clusters

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/log"
)

// NewCommand returns `kinc get clusters`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "clusters",
		Short: "Lists existing kinc clusters by their name",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
			if err != nil {
				return err
			}
			names, err := p.List(c.Context())
			if err != nil {
				return err
			}
			if len(names) == 0 {
				logger.V(0).Info("No kinc clusters found.")
			}
			for _, n := range names {
				fmt.Fprintln(streams.Out, n)
			}
			return nil
		},
	}
}
