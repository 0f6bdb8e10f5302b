package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/daemon"
)

// execute runs the command with klog left alone (it is process-global and
// the tests run in parallel).
func execute(args ...string) (code int, stdout, stderr string) {
	c := command()
	c.Klog = func(*slog.Logger, int) {}
	var out, errOut bytes.Buffer
	code = c.Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCommandLine: --help and --version exit 0 on stdout; an unknown flag
// (upstream's removed --port included) or a stray argument exits 2 naming
// it, before anything runs.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"--help"}, daemon.ExitOK, "--controllers strings", ""},
		{[]string{"-h"}, daemon.ExitOK, "--secure-port int", ""},
		{[]string{"--help"}, daemon.ExitOK, "Disabled-by-default controllers: bootstrap-signer-controller, token-cleaner-controller", ""},
		{[]string{"--version"}, daemon.ExitOK, "Kubernetes v1.37.2\n", ""},
		{[]string{"--bogus"}, daemon.ExitUsage, "", "kube-controller-manager: unknown flag: --bogus"},
		{[]string{"--leader-elect=true", "--port=10252"}, daemon.ExitUsage, "", "unknown flag: --port"},
		{[]string{"--v=2", "extra-arg"}, daemon.ExitUsage, "", `unexpected arguments ["extra-arg"]`},
		{[]string{"--node-cidr-mask-size=big"}, daemon.ExitUsage, "", `invalid argument "big" for "--node-cidr-mask-size"`},
	} {
		code, stdout, stderr := execute(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
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
