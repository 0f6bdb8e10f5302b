// Command kube-controller-manager is kinc's controller manager: it runs
// the controllers of pkg/controller (as upstream's runs its own) while
// holding the Lease kube-system/kube-controller-manager, with upstream's
// flag names for what it implements.
package main

import (
	"context"

	"github.com/kinc-dev/kinc/pkg/controller/manager"
	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/version"
)

func main() {
	daemon.Main(command())
}

// command is kube-controller-manager's command line: manager.Options'
// flags and the base's -v, --version and --help.
func command() *daemon.Command {
	opts := manager.NewOptions()
	return &daemon.Command{
		Name:     manager.Name,
		Short:    "The Kubernetes controller manager runs the control loops that move the cluster's state towards its desired state.",
		Version:  "Kubernetes " + version.KubernetesVersion,
		AddFlags: opts.AddFlags,
		Run: func(ctx context.Context, env daemon.Env) error {
			return manager.Run(ctx, opts, env.Logger)
		},
	}
}
