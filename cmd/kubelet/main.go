// Command kubelet is kinc's node agent: it runs static and API pods through
// a CRI runtime, with upstream's flag names for what it implements.
package main

import (
	"context"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/kubelet"
	"github.com/kinc-dev/kinc/pkg/version"
)

func main() {
	daemon.Main(command())
}

// command is the kubelet's command line: kubelet.Options' flags and the
// base's -v, --version and --help.
func command() *daemon.Command {
	opts := kubelet.NewOptions()
	return &daemon.Command{
		Name:     "kubelet",
		Short:    "The kubelet is the primary node agent: it runs the pods bound to its node (and its static pods) through a CRI runtime.",
		Version:  "Kubernetes " + version.KubernetesVersion,
		AddFlags: opts.AddFlags,
		Run: func(ctx context.Context, env daemon.Env) error {
			return kubelet.Run(ctx, opts, env.Logger)
		},
	}
}
