package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kinc-dev/kinc/pkg/daemon"
)

// TestExecute: the exit codes and output of every command, and of a
// missing or unknown one.
func TestExecute(t *testing.T) {
	unconfigured := t.TempDir()
	tests := []struct {
		args             []string
		code             int
		wantOut, wantErr string
	}{
		{nil, daemon.ExitUsage, "", "kinc-node: no command given"},
		{[]string{"frobnicate"}, daemon.ExitUsage, "", `unknown command "frobnicate"`},
		{[]string{"--bogus"}, daemon.ExitUsage, "", "kinc-node: unknown flag: --bogus"},
		{[]string{"help"}, daemon.ExitOK, "Usage:", ""},
		{[]string{"--help"}, daemon.ExitOK, "kinc-node routes [--pod-subnet CIDR]", ""},
		{[]string{"--version"}, daemon.ExitOK, "kinc-node v", ""},
		{[]string{"version"}, daemon.ExitOK, "kinc-node v", ""},
		{[]string{"version", "extra"}, daemon.ExitUsage, "", `kinc-node version: unexpected arguments ["extra"]`},
		{[]string{"readdress", "--help"}, daemon.ExitOK, "--interface string", ""},
		{[]string{"readdress", "--version"}, daemon.ExitOK, "kinc-node v", ""},
		{[]string{"readdress", "--bogus"}, daemon.ExitUsage, "", "kinc-node readdress: unknown flag: --bogus"},
		{[]string{"readdress", "extra"}, daemon.ExitUsage, "", `unexpected arguments ["extra"]`},
		{[]string{"readdress", "--root", unconfigured, "--interface", "lo", "-v", "2"}, daemon.ExitOK, "", ""},
		{[]string{"routes", "--pod-subnet", "10.244.0.0/33"}, daemon.ExitError, "", "--pod-subnet: invalid CIDR address"},
		{[]string{"etcd-peer", "--timeout", "soon"}, daemon.ExitUsage, "", `invalid argument "soon" for "--timeout"`},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		code := execute(context.Background(), tt.args, &out, &errOut)
		if code != tt.code || !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errOut.String(), tt.wantErr) {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, code, out.String(), errOut.String(),
				tt.code, tt.wantOut, tt.wantErr)
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
	code := execute(context.Background(), []string{"readdress", "--root", root, "--interface", "kinc-no-such-if0"}, &out, &errOut)
	if code != daemon.ExitError || !strings.Contains(errOut.String(), "find the node's current IP") || !strings.Contains(errOut.String(), "old address") {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
}

// TestRoutesStopsWhileWaitingForItsKubeconfig: before kinc create cluster
// writes the kubeconfig the service waits, and a stop ends it cleanly.
func TestRoutesStopsWhileWaitingForItsKubeconfig(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	if code := execute(ctx, []string{"routes", "--kubeconfig", filepath.Join(t.TempDir(), "kubelet.conf"), "--node-name", "n"}, &out, &errOut); code != daemon.ExitOK {
		t.Errorf("routes: code %d, stderr %q", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "waiting for the kubeconfig") {
		t.Errorf("log %q", errOut.String())
	}
}

// TestWaitForAPIServer: connection errors are waited out; an API error
// (the Node not registered yet) means the apiserver is up; a stop ends
// the wait.
func TestWaitForAPIServer(t *testing.T) {
	client := fake.NewClientset()
	calls := 0
	client.PrependReactor("get", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		calls++
		if calls == 1 {
			return true, nil, errors.New("connect: connection refused")
		}
		return false, nil, nil
	})
	logger := slog.New(slog.DiscardHandler)
	if !waitForAPIServer(context.Background(), client, "n", logger) || calls != 2 {
		t.Errorf("waited %d calls", calls)
	}
	down := fake.NewClientset()
	down.PrependReactor("get", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connect: connection refused")
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if waitForAPIServer(ctx, down, "n", logger) {
		t.Error("returned true with the apiserver down and ctx ended")
	}
}
