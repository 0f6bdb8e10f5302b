package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	t.Parallel()
	if err := run([]string{"--help"}); err != nil {
		t.Errorf("--help = %v, want nil", err)
	}
}

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
		{"unknown flag", []string{"--fail-swap-on=false"}, "unknown flag: --fail-swap-on"},
		{"positional argument", []string{"extra"}, "unexpected arguments"},
		{"unknown config field", []string{"--config", write("bad.yaml", head+"evictionHard: {}\n")}, `unknown field "evictionHard"`},
		{"missing config", []string{"--config", filepath.Join(dir, "absent.yaml")}, "no such file"},
		{"bad taint", []string{"--config", good, "--register-with-taints", "a=b"}, "has no effect"},
		{"bad node ip", []string{"--config", good, "--node-ip", "not-an-ip"}, "invalid IP"},
		{"tls bootstrap", []string{"--config", good, "--kubeconfig", filepath.Join(dir, "kubelet.conf"), "--bootstrap-kubeconfig", bootstrap,
			"--node-ip", "127.0.0.1"}, "TLS bootstrapping (--bootstrap-kubeconfig) is not implemented"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := run(tc.args)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
			}
		})
	}
}
