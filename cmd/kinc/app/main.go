// Package app is kinc's entry point: it runs the command tree and shows
// errors once, at the top.
package app

import (
	"errors"
	"os"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/cmd/kinc"
	kexec "github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
)

// Main runs kinc with the process's arguments and streams and exits non-zero
// on failure. It is the only place that calls os.Exit.
func Main() {
	streams := cmd.StandardIOStreams()
	logger := cmd.NewLogger(streams.ErrOut, 0)
	logger.SetTerminal(cmd.IsSmartTerminal(streams.ErrOut, os.Getenv))
	if err := Run(logger, streams, os.Args[1:]); err != nil {
		os.Exit(1)
	}
}

// Run runs kinc with args and reports a failure on the logger: the error, then
// the output of a failed external command when there was one.
func Run(logger log.Logger, streams cmd.IOStreams, args []string) error {
	c := kinc.NewCommand(logger, streams)
	c.SetArgs(args)
	err := c.Execute()
	if err != nil {
		logger.Errorf("%v", err)
		var runErr *kexec.RunError
		if errors.As(err, &runErr) && len(runErr.Output) > 0 {
			logger.Errorf("command output:\n%s", runErr.Output)
		}
	}
	return err
}
