package main

import (
	"testing"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/daemon/daemontest"
)

// TestCommandLine: --help and --version exit 0 on stdout; an unknown flag
// or a stray argument exits 2 naming it, before anything runs.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	daemontest.Check(t, command,
		daemontest.Case{Args: []string{"--help"}, Code: daemon.ExitOK, Stdout: "--etcd-servers strings"},
		daemontest.Case{Args: []string{"--version"}, Code: daemon.ExitOK, Stdout: "Kubernetes v1.37.2\n"},
		daemontest.Case{Args: []string{"--bogus"}, Code: daemon.ExitUsage, Stderr: "kube-apiserver: unknown flag: --bogus"},
		daemontest.Case{Args: []string{"--secure-port=6443", "stray"}, Code: daemon.ExitUsage, Stderr: `unexpected arguments ["stray"]`},
	)
}
