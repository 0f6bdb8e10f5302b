package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/daemon"
)

// TestCommandLine: --help and --version exit 0 on stdout; an unknown flag
// or a stray argument exits 2 naming it, before anything runs.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"--help"}, daemon.ExitOK, "--etcd-servers strings", ""},
		{[]string{"--version"}, daemon.ExitOK, "Kubernetes v1.37.2\n", ""},
		{[]string{"--bogus"}, daemon.ExitUsage, "", "kube-apiserver: unknown flag: --bogus"},
		{[]string{"--secure-port=6443", "stray"}, daemon.ExitUsage, "", `unexpected arguments ["stray"]`},
	} {
		var stdout, stderr bytes.Buffer
		code := command().Execute(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout.String(), stderr.String(),
				tc.code, tc.stdout, tc.stderr)
		}
	}
}
