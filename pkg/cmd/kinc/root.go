// Package kinc assembles the kinc command tree.
package kinc

import (
	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/build"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/completion"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/conformance"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/create"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/delete"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/export"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/get"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/load"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc/version"
	"github.com/kinc-dev/kinc/pkg/log"
)

// VerbositySetter is implemented by loggers whose verbosity and quietness
// follow the root flags; they are applied before any command runs.
type VerbositySetter interface {
	SetVerbosity(log.Level)
	SetQuiet(bool)
}

type flagpole struct {
	verbosity int32
	quiet     bool
}

// NewCommand returns the root `kinc` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	flags := &flagpole{}
	c := &cobra.Command{
		Use:   "kinc",
		Short: "kinc creates and manages local Kubernetes clusters whose nodes are Docker containers",
		Long: `kinc creates and manages local Kubernetes clusters using Docker container 'nodes'.
Each node runs systemd, containerd and kinc's own control plane, laid out like a kubeadm cluster.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			if s, ok := logger.(VerbositySetter); ok {
				s.SetVerbosity(log.Level(flags.verbosity))
				s.SetQuiet(flags.quiet)
			}
		},
	}
	c.SetOut(streams.Out)
	c.SetErr(streams.ErrOut)
	c.PersistentFlags().Int32VarP(&flags.verbosity, "verbosity", "v", 0, "info log verbosity, higher value produces more output")
	c.PersistentFlags().BoolVarP(&flags.quiet, "quiet", "q", false, "silence all stderr output")
	c.AddCommand(build.NewCommand(logger, streams))
	c.AddCommand(version.NewCommand(logger, streams))
	c.AddCommand(completion.NewCommand(logger, streams))
	c.AddCommand(create.NewCommand(logger, streams))
	c.AddCommand(delete.NewCommand(logger, streams))
	c.AddCommand(get.NewCommand(logger, streams))
	c.AddCommand(export.NewCommand(logger, streams))
	c.AddCommand(load.NewCommand(logger, streams))
	c.AddCommand(conformance.NewCommand(logger, streams))
	return c
}
