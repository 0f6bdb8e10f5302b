package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/containerdtest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestIntegrationBinary runs the kubelet binary in standalone mode (no
// --kubeconfig; so, as upstream, without webhook authentication and
// authorization) against a private containerd: it starts a static pod and
// exits cleanly on SIGTERM, leaving the pod running.
func TestIntegrationBinary(t *testing.T) {
	t.Cleanup(func() { containerdtest.RemoveCgroups("kinc-bin-test") }) // after containerd stopped (LIFO)
	ctrd := containerdtest.Start(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "kubelet")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	manifests := filepath.Join(dir, "manifests")
	os.MkdirAll(manifests, 0o755)
	os.WriteFile(filepath.Join(manifests, "pod.yaml"), []byte(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: bin, namespace: kube-system}
spec:
  hostNetwork: true
  containers:
  - {name: c, image: %s, imagePullPolicy: Never, command: [/testbin], args: [sleep, inf]}
`, containerdtest.TestImage)), 0o644)
	ca, err := pki.NewCA("kubelet-client-ca", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.crt")
	os.WriteFile(caFile, ca.CertPEM, 0o644)
	config := filepath.Join(dir, "config.yaml")
	os.WriteFile(config, []byte(fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %d
healthzPort: 0
authentication: {x509: {clientCAFile: %s}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
staticPodPath: %s
podLogsDir: %s
cgroupRoot: /kinc-bin-test
`, freePort(t), caFile, manifests, filepath.Join(dir, "pods"))), 0o644)
	logPath := filepath.Join(dir, "kubelet.log")
	logFile, _ := os.Create(logPath)
	cmd := exec.Command(bin, "--config="+config, "--container-runtime-endpoint="+ctrd.Endpoint, "--hostname-override=Bin-Node",
		"--node-ip=127.0.0.1", "--root-dir="+filepath.Join(dir, "root"), "--v=4")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("kubelet log:\n%s", b)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		sbs, _ := ctrd.Runtime.ListPodSandbox(context.Background(), &runtimeapi.PodSandboxFilter{
			State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
		if len(sbs) == 1 && sbs[0].Metadata.Name == "bin-bin-node" {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("kubelet exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no sandbox for the static pod: %v", sbs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("kubelet exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("kubelet did not exit after SIGTERM")
	}
	if b, _ := os.ReadFile(logPath); !strings.Contains(string(b), "kubelet stopping") {
		t.Errorf("log lacks the stop line:\n%s", b)
	}
}
