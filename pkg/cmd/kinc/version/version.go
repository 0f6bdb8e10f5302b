// Package version implements `kinc version`.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/log"
	"github.com/kinc-dev/kinc/pkg/version"
)

// NewCommand returns `kinc version`. With the root's --quiet it prints the
// semantic version only, for scripts.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Prints the kinc version",
		Long:  "Prints kinc's version, the git commit it was built from, the Go version and the platform.",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			info := version.Get()
			if q, err := c.Flags().GetBool("quiet"); err == nil && q {
				_, err := fmt.Fprintln(streams.Out, info.Version)
				return err
			}
			_, err := fmt.Fprintln(streams.Out, info.String())
			if err == nil && logger.V(1).Enabled() {
				commit := info.GitCommit
				if commit == "" {
					commit = "unknown"
				}
				logger.V(1).Infof("git commit: %s", commit)
			}
			return err
		},
	}
}
