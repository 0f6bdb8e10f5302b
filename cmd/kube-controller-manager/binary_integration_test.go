package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serviceAccountFlags returns kubeadm's service account flags for the
// apiserver (issuer, verification and signing keys, written to a
// temporary directory): --use-service-account-credentials asks it for
// tokens.
func serviceAccountFlags(t testing.TB) []string {
	t.Helper()
	key, err := pki.NewServiceAccountKey(pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pub, priv := filepath.Join(dir, "sa.pub"), filepath.Join(dir, "sa.key")
	if err := os.WriteFile(pub, key.PublicPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(priv, key.PrivatePEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + pub, "--service-account-signing-key-file=" + priv}
}

// TestIntegrationKubeadmCommandLine builds the binary and runs it with the
// flags kubeadm's kube-controller-manager.yaml passes: /healthz answers on
// the secure port, the Lease is held, a new namespace gets its default
// ServiceAccount and kube-root-ca.crt, and SIGTERM stops it cleanly.
func TestIntegrationKubeadmCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds the binary, starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: serviceAccountFlags(t)})
	bin := filepath.Join(t.TempDir(), "kube-controller-manager")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	ca := filepath.Join(inst.Dir, "ca.crt")
	port := freePort(t)
	logPath := filepath.Join(dir, "kube-controller-manager.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin,
		"--allocate-node-cidrs=true",
		"--authentication-kubeconfig="+inst.Kubeconfig,
		"--authorization-kubeconfig="+inst.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--client-ca-file="+ca,
		"--cluster-cidr=10.244.0.0/16",
		"--cluster-name=kinc",
		"--controllers=*,bootstrapsigner,tokencleaner",
		"--kubeconfig="+inst.Kubeconfig,
		"--leader-elect=true",
		"--requestheader-client-ca-file="+ca,
		"--root-ca-file="+ca,
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+dir,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--use-service-account-credentials=true",
		"--v=2",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		if t.Failed() || os.Getenv("KINC_SHOW_LOG") != "" {
			b, _ := os.ReadFile(logPath)
			t.Logf("kube-controller-manager log:\n%s", b)
		}
	}()

	poll := func(what string, cond func(ctx context.Context) bool) {
		t.Helper()
		if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			return cond(ctx), nil
		}); err != nil {
			t.Fatalf("%s: not within 30s", what)
		}
	}
	httpc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	poll("/healthz ok on the secure port", func(context.Context) bool {
		resp, err := httpc.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && string(b) == "ok"
	})
	if _, err := os.Stat(filepath.Join(dir, "kube-controller-manager.crt")); err != nil {
		t.Errorf("no self-signed serving pair in --cert-dir: %v", err)
	}

	client := inst.Client(t)
	if _, err := client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll("default ServiceAccount and kube-root-ca.crt in web", func(ctx context.Context) bool {
		_, errSA := client.CoreV1().ServiceAccounts("web").Get(ctx, "default", metav1.GetOptions{})
		_, errCM := client.CoreV1().ConfigMaps("web").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return errSA == nil && errCM == nil
	})
	lease, err := client.CoordinationV1().Leases("kube-system").Get(context.Background(), "kube-controller-manager", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Fatalf("no kube-system/kube-controller-manager lease held: %v", err)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGINT: %v, want 0", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30s after SIGINT")
	}
}
