package main

import (
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/daemon/daemontest"
)

// execute runs the command (see daemontest.Execute).
func execute(args ...string) (code int, stdout, stderr string) {
	return daemontest.Execute(command(), args...)
}

// TestCommandLine: --help and --version exit 0 on stdout; an unknown flag
// (upstream's removed --port included) or a stray argument exits 2 naming
// it, before anything runs.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	daemontest.Check(t, command,
		daemontest.Case{Args: []string{"--help"}, Code: daemon.ExitOK, Stdout: "--controllers strings"},
		daemontest.Case{Args: []string{"-h"}, Code: daemon.ExitOK, Stdout: "--secure-port int"},
		daemontest.Case{Args: []string{"--help"}, Code: daemon.ExitOK, Stdout: "Disabled-by-default controllers: bootstrap-signer-controller, token-cleaner-controller"},
		daemontest.Case{Args: []string{"--version"}, Code: daemon.ExitOK, Stdout: "Kubernetes v1.37.2\n"},
		daemontest.Case{Args: []string{"--bogus"}, Code: daemon.ExitUsage, Stderr: "kube-controller-manager: unknown flag: --bogus"},
		daemontest.Case{Args: []string{"--leader-elect=true", "--port=10252"}, Code: daemon.ExitUsage, Stderr: "unknown flag: --port"},
		daemontest.Case{Args: []string{"--v=2", "extra-arg"}, Code: daemon.ExitUsage, Stderr: `unexpected arguments ["extra-arg"]`},
		daemontest.Case{Args: []string{"--node-cidr-mask-size=big"}, Code: daemon.ExitUsage, Stderr: `invalid argument "big" for "--node-cidr-mask-size"`},
	)
}

// TestBadValuesAreErrors: a value that cannot work fails (exit 1) before
// the manager connects, naming the flag.
func TestBadValuesAreErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--allocate-node-cidrs", "--cluster-cidr=10.244.0.0/33"}, `kube-controller-manager: --cluster-cidr "10.244.0.0/33": invalid CIDR address: 10.244.0.0/33`},
		{[]string{"--service-cluster-ip-range=nope"}, `--service-cluster-ip-range "nope"`},
		{[]string{"--controllers=*,-nosuchcontroller"}, `--controllers: "nosuchcontroller" is not in the list of known controllers`},
		{[]string{"--root-ca-file=/nonexistent/ca.crt"}, "--root-ca-file: open /nonexistent/ca.crt"},
	} {
		if code, _, stderr := execute(append(tc.args, "--kubeconfig=/nonexistent")...); code != daemon.ExitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: code %d, stderr %q; want %d and %q", tc.args, code, stderr, daemon.ExitError, tc.want)
		}
	}
}
