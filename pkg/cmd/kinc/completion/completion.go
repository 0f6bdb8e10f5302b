// Package completion implements `kinc completion <shell>`.
package completion

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/log"
)

// NewCommand returns `kinc completion` with one subcommand per shell. The
// script is generated from the root command, so it covers every command and
// flag.
func NewCommand(_ log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:   "completion",
		Short: "Outputs shell completion code for the specified shell (bash, zsh, fish or powershell)",
		Long: `Outputs kinc shell completion for the given shell.

bash:       source <(kinc completion bash)
zsh:        source <(kinc completion zsh)
fish:       kinc completion fish | source
powershell: kinc completion powershell | Out-String | Invoke-Expression`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := c.Help(); err != nil {
				return err
			}
			return errors.New("subcommand is required")
		},
	}
	shells := []struct {
		name string
		gen  func(root *cobra.Command) error
	}{
		{"bash", func(r *cobra.Command) error { return r.GenBashCompletionV2(streams.Out, true) }},
		{"zsh", func(r *cobra.Command) error { return r.GenZshCompletion(streams.Out) }},
		{"fish", func(r *cobra.Command) error { return r.GenFishCompletion(streams.Out, true) }},
		{"powershell", func(r *cobra.Command) error { return r.GenPowerShellCompletionWithDesc(streams.Out) }},
	}
	for _, s := range shells {
		gen := s.gen
		c.AddCommand(&cobra.Command{
			Use:   s.name,
			Short: "Output shell completions for " + s.name,
			Args:  cobra.NoArgs,
			RunE:  func(c *cobra.Command, _ []string) error { return gen(c.Root()) },
		})
	}
	return c
}
