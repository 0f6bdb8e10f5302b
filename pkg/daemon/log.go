// Package daemon holds what kinc's control-plane daemons share: a leveled
// slog logger configured from upstream's --v flag.
package daemon

import (
	"io"
	"log/slog"
)

// NewLogger returns a text slog logger on w. --v=0 logs Info and above;
// --v≥4 adds Debug, as klog's V(4) is upstream's debug level.
func NewLogger(w io.Writer, verbosity int) *slog.Logger {
	level := slog.LevelInfo
	if verbosity >= 4 {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
