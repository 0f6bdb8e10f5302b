// Package logs is `kinc export logs`.
package logs

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/internal/cli"
	"github.com/kinc-dev/kinc/pkg/log"
)

type flagpole struct {
	name string
}

// NewCommand returns `kinc export logs`.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "logs [output-dir]",
		Short: "Exports a cluster's logs to a directory (default: a new temporary one)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			name := cli.ClusterName(c.Flags(), flags.name, os.Getenv)
			p, err := cluster.NewProvider(cluster.ProviderWithLogger(logger))
			if err != nil {
				return err
			}
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			} else if dir, err = os.MkdirTemp("", "kinc-logs-"); err != nil {
				return fmt.Errorf("export logs: %w", err)
			}
			logger.V(0).Infof("Exporting logs for cluster %q to:", name)
			fmt.Fprintln(streams.Out, dir)
			return p.CollectLogs(c.Context(), name, dir)
		},
	}
	c.Flags().StringVarP(&flags.name, "name", "n", constants.DefaultClusterName, "the cluster name")
	return c
}
