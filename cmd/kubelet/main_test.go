package main

import (
	"os"
	"path/filepath"
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
// or a stray argument exits 2 naming it, before anything runs.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	daemontest.Check(t, command,
		daemontest.Case{Args: []string{"--help"}, Code: daemon.ExitOK, Stdout: "--container-runtime-endpoint string"},
		daemontest.Case{Args: []string{"--version"}, Code: daemon.ExitOK, Stdout: "Kubernetes v1.37.2\n"},
		daemontest.Case{Args: []string{"--bogus"}, Code: daemon.ExitUsage, Stderr: "kubelet: unknown flag: --bogus"},
		daemontest.Case{Args: []string{"--fail-swap-on=false"}, Code: daemon.ExitUsage, Stderr: "unknown flag: --fail-swap-on"},
		daemontest.Case{Args: []string{"--v=2", "stray"}, Code: daemon.ExitUsage, Stderr: `unexpected arguments ["stray"]`},
	)
}

// TestRunRejectsBadInput: a bad configuration fails (exit 1) before the
// kubelet dials its runtime, saying what is wrong.
func TestRunRejectsBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	head := "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
	good := write("good.yaml", head)
	bootstrap := write("bootstrap.conf", "")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown config field", []string{"--config", write("bad.yaml", head+"evictionSoft: {}\n")}, `unknown field "evictionSoft"`},
		{"bad eviction threshold", []string{"--config", write("evict.yaml", head+"evictionHard:\n  nodefs.available: 200%\n")}, `evictionHard[nodefs.available]: Invalid value: "200%"`},
		{"missing config", []string{"--config", filepath.Join(dir, "absent.yaml")}, "no such file"},
		{"bad taint", []string{"--config", good, "--register-with-taints", "a=b"}, "has no effect"},
		{"bad node ip", []string{"--config", good, "--node-ip", "not-an-ip"}, "invalid IP"},
		{"empty bootstrap kubeconfig", []string{"--config", good, "--kubeconfig", filepath.Join(dir, "kubelet.conf"), "--bootstrap-kubeconfig", bootstrap,
			"--node-ip", "127.0.0.1"}, "TLS bootstrap: load bootstrap kubeconfig"},
		{"no kubeconfig, no bootstrap kubeconfig", []string{"--config", good, "--kubeconfig", filepath.Join(dir, "kubelet.conf"),
			"--bootstrap-kubeconfig", filepath.Join(dir, "absent.conf"), "--node-ip", "127.0.0.1"}, "kubelet.conf does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := execute(tc.args...)
			if code != daemon.ExitError || !strings.Contains(stderr, tc.want) {
				t.Errorf("%q: code %d, stderr %q; want %d and %q", tc.args, code, stderr, daemon.ExitError, tc.want)
			}
		})
	}
}
