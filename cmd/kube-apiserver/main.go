// Command kube-apiserver is kinc's Kubernetes API server: the REST API on
// etcd, with upstream's flag names for what it implements.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/kinc-dev/kinc/pkg/apiserver/server"
	"github.com/kinc-dev/kinc/pkg/daemon"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kube-apiserver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts := server.NewOptions()
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	opts.AddFlags(fs)
	// Unknown flags are an error (pflag's default), never silently ignored.
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return server.Run(ctx, opts, daemon.NewLogger(os.Stderr, opts.Verbosity))
}
