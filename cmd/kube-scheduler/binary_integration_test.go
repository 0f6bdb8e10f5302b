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
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

// buildBinary builds this command into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kube-scheduler")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// process is a running kube-scheduler binary with its log.
type process struct {
	cmd     *exec.Cmd
	logPath string
}

func (p *process) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// startBinary runs the binary with kubeadm's flags plus extra ones.
func startBinary(t *testing.T, bin string, inst *apiservertest.Instance, port int, extra ...string) *process {
	t.Helper()
	p := &process{logPath: filepath.Join(t.TempDir(), "kube-scheduler.log")}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--authentication-kubeconfig=" + inst.Kubeconfig,
		"--authorization-kubeconfig=" + inst.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--kubeconfig=" + inst.Kubeconfig,
		"--leader-elect=true",
		"--secure-port=" + strconv.Itoa(port),
	}, extra...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(os.Interrupt)
		_, _ = p.cmd.Process.Wait()
		logFile.Close()
		if t.Failed() || os.Getenv("KINC_SHOW_LOG") != "" {
			t.Logf("kube-scheduler log:\n%s", p.log())
		}
	})
	return p
}

func createPod(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	pod := st.MakePod("default", name).Obj()
	pod.UID = ""
	if _, err := cs.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitBound(t *testing.T, cs kubernetes.Interface, name string, timeout time.Duration) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		return err == nil && p.Spec.NodeName != "", nil
	}); err != nil {
		t.Fatalf("pod %s not bound within %v", name, timeout)
	}
}

// TestIntegrationKubeadmCommandLine runs the built binary with the flags
// kubeadm's kube-scheduler.yaml passes, then schedules a pod.
func TestIntegrationKubeadmCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds the binary, starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	bin := buildBinary(t)
	port := freePort(t)
	startBinary(t, bin, inst, port, "--v=2")

	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && string(b) == "ok", nil
	}); err != nil {
		t.Fatal("/healthz on the secure port never answered ok")
	}

	cs, err := kubernetes.NewForConfig(inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	node := st.MakeNode("worker").Obj()
	node.UID = ""
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createPod(t, cs, "p")
	waitBound(t, cs, "p", 30*time.Second)
	lease, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "kube-scheduler", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		t.Fatalf("no kube-system/kube-scheduler lease held: %v", err)
	}
}

// TestIntegrationLeaderCrash kills the leading binary (no lease release);
// the standby takes over once the lease expires.
func TestIntegrationLeaderCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds the binary, starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	bin := buildBinary(t)
	cs, err := kubernetes.NewForConfig(inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	node := st.MakeNode("worker").Obj()
	node.UID = ""
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lease := []string{"--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=3s", "--leader-elect-retry-period=250ms"}
	a := startBinary(t, bin, inst, freePort(t), lease...)
	createPod(t, cs, "before")
	waitBound(t, cs, "before", 30*time.Second)
	b := startBinary(t, bin, inst, freePort(t), lease...)
	time.Sleep(time.Second)
	leader, standby := a, b
	if !strings.Contains(a.log(), "became leader") {
		leader, standby = b, a
	}
	if strings.Contains(standby.log(), "became leader") {
		t.Fatal("both schedulers lead")
	}
	if err := leader.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	createPod(t, cs, "after")
	waitBound(t, cs, "after", 30*time.Second)
	t.Logf("standby bound a pod %v after the leader was killed (lease 4s)", time.Since(killed))
	if !strings.Contains(standby.log(), "became leader") {
		t.Fatal("the standby did not log leadership")
	}
}

// TestIntegrationDelegatedAuth runs the binary with kubeadm's flags (no
// --client-ca-file) on an apiserver with Node,RBAC: the health checks are
// open, anonymous /metrics is upstream's 403, a forged token is 401, and the
// admin's client certificate, verified against the client CA the
// apiserver publishes in kube-system/extension-apiserver-authentication,
// reads /metrics (system:masters).
func TestIntegrationDelegatedAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: builds the binary, starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--authorization-mode=Node,RBAC"}})
	bin := buildBinary(t)
	port := freePort(t)
	startBinary(t, bin, inst, port)
	adminTLS, err := rest.TLSConfigFor(inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	adminTLS.RootCAs, adminTLS.InsecureSkipVerify = nil, true
	get := func(tlsCfg *tls.Config, path, token string) (int, string) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d%s", port, path), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}).Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	anonymous := &tls.Config{InsecureSkipVerify: true}
	if err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		code, _ := get(anonymous, "/healthz", "")
		return code == http.StatusOK, nil
	}); err != nil {
		t.Fatal("/healthz never answered 200 to anonymous")
	}
	if code, body := get(anonymous, "/metrics", ""); code != http.StatusForbidden ||
		!strings.Contains(body, `forbidden: User \"system:anonymous\" cannot get path \"/metrics\"`) {
		t.Errorf("anonymous /metrics: %d %s", code, body)
	}
	if code, body := get(anonymous, "/healthz", "forged"); code != http.StatusUnauthorized {
		t.Errorf("forged token: %d %s", code, body)
	}
	// The published client CA is read at start (and every minute).
	if err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 70*time.Second, true, func(context.Context) (bool, error) {
		code, body := get(adminTLS, "/metrics", "")
		return code == http.StatusOK && strings.Contains(body, "go_goroutines"), nil
	}); err != nil {
		code, body := get(adminTLS, "/metrics", "")
		t.Errorf("admin /metrics: %d %.300s", code, body)
	}
}
