// Command kube-scheduler is kinc's scheduler: it binds pending pods to
// nodes, with upstream's flag names for what it implements.
package main

import (
	"context"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/scheduler/app"
	"github.com/kinc-dev/kinc/pkg/version"
)

func main() {
	daemon.Main(command())
}

// command is kube-scheduler's command line: app.Options' flags and the
// base's -v, --version and --help.
func command() *daemon.Command {
	opts := app.NewOptions()
	return &daemon.Command{
		Name:     "kube-scheduler",
		Short:    "The Kubernetes scheduler binds each pending pod to a node that fits it, as its profile's plugins decide.",
		Version:  "Kubernetes " + version.KubernetesVersion,
		AddFlags: opts.AddFlags,
		Run: func(ctx context.Context, env daemon.Env) error {
			opts.MarkSet(env.Flags)
			return app.Run(ctx, opts, env.Logger)
		},
	}
}
