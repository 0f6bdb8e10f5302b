// Package daemon is the base every kinc daemon main is built on
// (kube-apiserver, kube-scheduler, kubelet, kinc-node, and the
// kube-controller-manager and kube-proxy to come), so that a main is a
// thin list of flags and a run function:
//
//   - Command: pflag parsing with upstream's conventions (--help exits 0,
//     an unknown flag or a stray argument exits 2 naming it, --version
//     prints "Kubernetes v1.37.2", -v/--v sets the log level), a context
//     cancelled by SIGINT/SIGTERM, and a bound on graceful shutdown;
//   - NewLogger and RouteKlog: one slog logger per process that klog
//     (client-go's reflectors, leader election, event recorder) writes to;
//   - SecureServingOptions and Endpoints: HTTPS serving of /healthz,
//     /livez, /readyz and /metrics with the component's own checks,
//     self-signed when no certificate is given, behind the delegated
//     authentication and authorization of package delegated
//     (Endpoints.Wrap);
//   - ClientOptions: a rest.Config from --kubeconfig (or in-cluster),
//     optionally waiting for the file to appear;
//   - LeaderElectionOptions and LeaderElection: upstream's --leader-elect
//     flags and a Lease-based election.
//
// Nothing here calls os.Exit except Main, and nothing keeps package-level
// state; klog's logger is process-global by klog's design, which is why
// RouteKlog is called once, by Command.Execute.
package daemon
