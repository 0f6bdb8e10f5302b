package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/utils/clock"
)

// Exit codes of Command.Execute.
const (
	// ExitOK: the daemon stopped cleanly, or --help or --version was asked.
	ExitOK = 0
	// ExitError: running failed (bad configuration, a lost lease, a
	// shutdown that overran its bound…).
	ExitError = 1
	// ExitUsage: the command line is wrong (an unknown flag, a bad flag
	// value, a stray argument).
	ExitUsage = 2
)

// DefaultShutdownTimeout bounds a graceful shutdown when a Command sets
// none.
const DefaultShutdownTimeout = 30 * time.Second

// Command is one daemon's command line and run function.
type Command struct {
	// Name is the binary's name, used in usage and error lines.
	Name string
	// Short is a one-line description printed by --help.
	Short string
	// Version is what --version prints (upstream's components print
	// "Kubernetes v1.37.2"); empty means the command has no --version flag.
	Version string
	// AddFlags registers the component's own flags. -v/--v, --version and
	// -h/--help are the base's: a component must not register them.
	AddFlags func(fs *pflag.FlagSet)
	// Run runs the daemon until ctx ends, then returns after stopping
	// gracefully. Its error is printed and makes the exit code ExitError;
	// an error wrapping context.Canceled after ctx ended is a clean stop.
	Run func(ctx context.Context, env Env) error
	// ShutdownTimeout bounds how long Run may take to return once ctx has
	// ended; after it Execute returns ExitError without waiting for Run
	// (Main then exits the process). Zero means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Clock times the shutdown bound; nil means the real clock.
	Clock clock.Clock
	// Klog routes klog into the logger Execute made; nil means RouteKlog.
	// klog is process-global and not safe to reconfigure while in use, so
	// tests running several Executes at once set a no-op here.
	Klog func(logger *slog.Logger, verbosity int)
}

// Env is what Run gets besides its context.
type Env struct {
	// Logger is the process's logger at --v, which klog also writes to.
	Logger *slog.Logger
	// Verbosity is --v.
	Verbosity int
	// Flags is the parsed flag set (e.g. to tell which flags were given).
	Flags *pflag.FlagSet
	// Stdout and Stderr are the streams Execute was given.
	Stdout, Stderr io.Writer
}

// Main runs c with the process's arguments and streams, in a context
// cancelled by SIGINT or SIGTERM, and exits with Execute's code.
func Main(c *Command) {
	ctx, stop := SignalContext()
	code := c.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// SignalContext returns a context cancelled by the first SIGINT or
// SIGTERM. After that first signal the default handling is restored, so a
// second one kills a process whose shutdown hangs. Call stop to release
// the signal handler.
func SignalContext() (ctx context.Context, stop context.CancelFunc) {
	ctx, stop = signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// Execute parses args, then runs c.Run in ctx, and returns the exit code.
// It writes usage and --version to stdout, and the logs and errors to
// stderr. It routes klog into the logger it makes (see Klog).
func (c *Command) Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // Execute prints errors and usage itself
	fs.Usage = func() {}
	fs.SortFlags = true
	if c.AddFlags != nil {
		c.AddFlags(fs)
	}
	var verbosity int
	fs.IntVarP(&verbosity, "v", "v", 0, "number for the log level verbosity (klog's V levels; 4 and above is debug)")
	var showVersion, help bool
	if c.Version != "" {
		fs.BoolVar(&showVersion, "version", false, "Print version information and quit.")
	}
	fs.BoolVarP(&help, "help", "h", false, "help for "+c.Name)
	// Unknown flags are an error (pflag's default), never silently ignored.
	err := fs.Parse(args)
	switch {
	case help || errors.Is(err, pflag.ErrHelp):
		c.printUsage(stdout, fs)
		return ExitOK
	case err != nil:
		return c.usageError(stderr, err.Error())
	case fs.NArg() > 0:
		return c.usageError(stderr, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	case showVersion:
		fmt.Fprintln(stdout, c.Version)
		return ExitOK
	}

	logger := NewLogger(stderr, verbosity)
	routeKlog := c.Klog
	if routeKlog == nil {
		routeKlog = RouteKlog
	}
	routeKlog(logger, verbosity)
	env := Env{Logger: logger, Verbosity: verbosity, Flags: fs, Stdout: stdout, Stderr: stderr}
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, env) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		timeout := c.ShutdownTimeout
		if timeout <= 0 {
			timeout = DefaultShutdownTimeout
		}
		logger.Info("shutting down", "cause", context.Cause(ctx), "timeout", timeout)
		clk := c.Clock
		if clk == nil {
			clk = clock.RealClock{}
		}
		select {
		case err = <-done:
		case <-clk.After(timeout):
			fmt.Fprintf(stderr, "%s: graceful shutdown did not finish within %s\n", c.Name, timeout)
			return ExitError
		}
	}
	if err == nil || (ctx.Err() != nil && errors.Is(err, context.Canceled)) {
		return ExitOK
	}
	fmt.Fprintf(stderr, "%s: %v\n", c.Name, err)
	return ExitError
}

func (c *Command) usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", c.Name, msg, c.Name)
	return ExitUsage
}

func (c *Command) printUsage(w io.Writer, fs *pflag.FlagSet) {
	var b strings.Builder
	if c.Short != "" {
		b.WriteString(c.Short + "\n\n")
	}
	fmt.Fprintf(&b, "Usage:\n  %s [flags]\n\nFlags:\n", c.Name)
	b.WriteString(fs.FlagUsages())
	_, _ = io.WriteString(w, b.String())
}
