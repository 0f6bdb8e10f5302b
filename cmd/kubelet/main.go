// Command kubelet is kinc's node agent: it runs static and API pods through
// a CRI runtime, with upstream's flag names for what it implements.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/kubelet"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kubelet:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts := kubelet.NewOptions()
	fs := pflag.NewFlagSet("kubelet", pflag.ContinueOnError)
	opts.AddFlags(fs)
	// Unknown flags are an error (pflag's default), never silently ignored.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil // usage was printed
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return kubelet.Run(ctx, opts, daemon.NewLogger(os.Stderr, opts.Verbosity))
}
