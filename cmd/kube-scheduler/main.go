// Command kube-scheduler is kinc's scheduler: it binds pending pods to
// nodes, with upstream's flag names for what it implements.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/scheduler/app"
	"github.com/kinc-dev/kinc/pkg/version"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kube-scheduler:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts := app.NewOptions()
	fs := pflag.NewFlagSet("kube-scheduler", pflag.ContinueOnError)
	opts.AddFlags(fs)
	showVersion := fs.Bool("version", false, "Print version information and quit.")
	// Unknown flags are an error (pflag's default), never silently ignored.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *showVersion {
		fmt.Println("Kubernetes " + version.KubernetesVersion)
		return nil
	}
	opts.MarkSet(fs)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	logger := daemon.NewLogger(os.Stderr, opts.Verbosity)
	routeKlog(logger, opts.Verbosity)
	return app.Run(ctx, opts, logger)
}

// routeKlog sends what client-go logs through klog (leader election, event
// recording, reflectors) to the same slog logger, at the same --v.
func routeKlog(logger *slog.Logger, verbosity int) {
	var fs flag.FlagSet
	klog.InitFlags(&fs)
	_ = fs.Set("v", strconv.Itoa(verbosity))
	klog.SetSlogLogger(logger)
}
