package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	unconfigured := t.TempDir()
	tests := []struct {
		args    []string
		wantErr string
		wantOut string
	}{
		{nil, "no command given", ""},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, ""},
		{[]string{"readdress", "--bogus"}, "unknown flag: --bogus", ""},
		{[]string{"readdress", "extra"}, `unexpected arguments ["extra"]`, ""},
		{[]string{"readdress", "--root", unconfigured, "--interface", "lo"}, "", ""},
		{[]string{"routes", "--pod-subnet", "10.244.0.0/33"}, "--pod-subnet: invalid CIDR address", ""},
		{[]string{"version"}, "", "kinc-node v"},
		{[]string{"help"}, "", "Usage:"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tt.args, &out, &errOut)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("run %q: error %v, want %q", tt.args, err, tt.wantErr)
		}
		if !strings.Contains(out.String(), tt.wantOut) {
			t.Errorf("run %q: output %q, want %q", tt.args, out.String(), tt.wantOut)
		}
	}
}

// TestReaddressNeedsAnInterface: a configured node whose interface is
// missing fails, saying what it could not do.
func TestReaddressNeedsAnInterface(t *testing.T) {
	root := t.TempDir()
	flags := filepath.Join(root, "var/lib/kubelet/kubeadm-flags.env")
	if err := os.MkdirAll(filepath.Dir(flags), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(flags, []byte(`KUBELET_KUBEADM_ARGS="--node-ip=172.20.0.2"`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"readdress", "--root", root, "--interface", "kinc-no-such-if0"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "find the node's current IP") || !strings.Contains(err.Error(), "old address") {
		t.Errorf("error %v", err)
	}
}

// TestRoutesStopsWhileWaitingForItsKubeconfig: before kinc create cluster
// writes the kubeconfig the service waits, and a stop ends it cleanly.
func TestRoutesStopsWhileWaitingForItsKubeconfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"routes", "--kubeconfig", filepath.Join(t.TempDir(), "kubelet.conf"), "--node-name", "n"}, &out, &errOut); err != nil {
		t.Errorf("routes: %v", err)
	}
	if !strings.Contains(errOut.String(), "waiting for the kubeconfig") {
		t.Errorf("log %q", errOut.String())
	}
}
