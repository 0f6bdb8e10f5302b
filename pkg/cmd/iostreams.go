// Package cmd holds what every kinc CLI command shares: its I/O streams and
// the stderr logger.
package cmd

import (
	"io"
	"os"
)

// IOStreams are the standard streams a command reads and writes. Commands
// take them instead of using os.Stdout directly, so tests can capture output.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// StandardIOStreams returns the process's stdin, stdout and stderr.
func StandardIOStreams() IOStreams {
	return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}
