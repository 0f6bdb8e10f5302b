// Command kube-apiserver is kinc's Kubernetes API server: the REST API on
// etcd, with upstream's flag names for what it implements.
package main

import (
	"context"

	"github.com/kinc-dev/kinc/pkg/apiserver/server"
	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/version"
)

func main() {
	daemon.Main(command())
}

// command is kube-apiserver's command line: server.Options' flags and the
// base's -v, --version and --help.
func command() *daemon.Command {
	opts := server.NewOptions()
	return &daemon.Command{
		Name:     "kube-apiserver",
		Short:    "The Kubernetes API server validates and configures data for the api objects (pods, services, …), stored in etcd.",
		Version:  "Kubernetes " + version.KubernetesVersion,
		AddFlags: opts.AddFlags,
		Run: func(ctx context.Context, env daemon.Env) error {
			return server.Run(ctx, opts, env.Logger)
		},
	}
}
