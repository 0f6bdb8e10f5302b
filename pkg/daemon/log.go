package daemon

import (
	"flag"
	"io"
	"log/slog"
	"strconv"

	"k8s.io/klog/v2"
)

// NewLogger returns a text slog logger on w for upstream's --v. klog's
// V(n) is slog level -n, so --v=n lets through every message up to V(n):
// --v=0 logs Info and above, --v=2 adds klog's V(1) and V(2) lines
// (printed DEBUG+3, DEBUG+2), and --v≥4 adds Debug, klog's V(4), which is
// upstream's debug level.
func NewLogger(w io.Writer, verbosity int) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: Level(verbosity)}))
}

// Level is the slog level that --v=verbosity enables.
func Level(verbosity int) slog.Level {
	if verbosity <= 0 {
		return slog.LevelInfo
	}
	return slog.Level(-verbosity)
}

// RouteKlog sends what libraries log through klog (client-go's reflectors,
// leader election, the event recorder) to logger, with klog's verbosity
// set to verbosity so that klog.V(n) passes exactly when --v ≥ n.
//
// klog's logger and verbosity are global to the process: call this once,
// from the main (Command.Execute does).
func RouteKlog(logger *slog.Logger, verbosity int) {
	var fs flag.FlagSet
	klog.InitFlags(&fs)
	_ = fs.Set("v", strconv.Itoa(verbosity))
	klog.SetSlogLogger(logger)
}
