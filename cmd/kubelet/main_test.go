package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
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
// or a stray argument exits 2 naming it, before anything runs.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"--help"}, daemon.ExitOK, "--container-runtime-endpoint string", ""},
		{[]string{"--version"}, daemon.ExitOK, "Kubernetes v1.37.2\n", ""},
		{[]string{"--bogus"}, daemon.ExitUsage, "", "kubelet: unknown flag: --bogus"},
		{[]string{"--fail-swap-on=false"}, daemon.ExitUsage, "", "unknown flag: --fail-swap-on"},
		{[]string{"--v=2", "stray"}, daemon.ExitUsage, "", `unexpected arguments ["stray"]`},
	} {
		code, stdout, stderr := execute(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
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
		{"unknown config field", []string{"--config", write("bad.yaml", head+"evictionHard: {}\n")}, `unknown field "evictionHard"`},
		{"missing config", []string{"--config", filepath.Join(dir, "absent.yaml")}, "no such file"},
		{"bad taint", []string{"--config", good, "--register-with-taints", "a=b"}, "has no effect"},
		{"bad node ip", []string{"--config", good, "--node-ip", "not-an-ip"}, "invalid IP"},
		{"tls bootstrap", []string{"--config", good, "--kubeconfig", filepath.Join(dir, "kubelet.conf"), "--bootstrap-kubeconfig", bootstrap,
			"--node-ip", "127.0.0.1"}, "TLS bootstrapping (--bootstrap-kubeconfig) is not implemented"},
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
