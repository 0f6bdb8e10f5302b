// Package buildlog writes the progress lines of kinc's builds (the node
// image, the conformance suite and its test images) for humans: a step
// starting (" • Building the rootfs ..."), done (" ✓ Built rootfs in 2m3s"),
// a detail ("   a note") and, at verbosity 1, the output of the commands a
// build runs, each line indented under its step.
package buildlog

import (
	"context"
	"strings"
	"sync"

	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
)

// Step logs at V(0) that something starts: " • <format> ...".
func Step(l log.Logger, format string, args ...any) {
	l.V(0).Infof(" • "+format+" ...", args...)
}

// Done logs at V(0) that something finished: " ✓ <format>".
func Done(l log.Logger, format string, args ...any) {
	l.V(0).Infof(" ✓ "+format, args...)
}

// Note logs at V(0) a detail of the current step: "   <format>".
func Note(l log.Logger, format string, args ...any) {
	l.V(0).Infof("   "+format, args...)
}

// Command returns the command name args of cmder. When l's V(1) is enabled
// its standard output and error go to a LineWriter at V(1); otherwise they
// are left as cmder sets them (exec.Cmd captures output for its errors
// either way).
func Command(ctx context.Context, cmder exec.Cmder, l log.Logger, name string, args ...string) exec.Cmd {
	cmd := cmder.CommandContext(ctx, name, args...)
	if info := l.V(1); info.Enabled() {
		w := NewLineWriter(info)
		cmd.SetStdout(w).SetStderr(w)
	}
	return cmd
}

// LineWriter sends each complete line written to it to an InfoLogger,
// indented by five spaces (under a step's text). A final line without a
// newline is held back until one arrives. Safe for concurrent use: a
// command's stdout and stderr may share it.
type LineWriter struct {
	info    log.InfoLogger
	mu      sync.Mutex // guards partial
	partial string
}

// NewLineWriter returns a LineWriter logging to info.
func NewLineWriter(info log.InfoLogger) *LineWriter {
	return &LineWriter{info: info}
}

// Write logs the complete lines of what was held back plus p; it never
// fails.
func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := strings.Split(w.partial+string(p), "\n")
	w.partial = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		w.info.Info("     " + l)
	}
	return len(p), nil
}
