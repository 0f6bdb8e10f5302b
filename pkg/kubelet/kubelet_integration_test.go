package kubelet_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/kubelet"
	"github.com/kinc-dev/kinc/pkg/kubelet/containerdtest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

const nodeName = "kinc-test-node"

// env is a containerd, an apiserver and a kubelet between them.
type env struct {
	t         *testing.T
	ctrd      *containerdtest.Instance
	api       *apiservertest.Instance
	client    kubernetes.Interface
	dir       string
	manifests string
	opts      *kubelet.Options
	stop      func()
	logs      *syncBuffer
	// clientCA signs the certificates the kubelet API accepts; port is
	// the kubelet API's.
	clientCA *pki.CA
	port     int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil, "")
}

// standaloneAuth is the KubeletConfiguration of a kubelet without an
// apiserver (after authentication.x509): no TokenReview, AlwaysAllow, as
// upstream requires (its defaults need the apiserver).
const standaloneAuth = `  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
`

// newEnvWith is newEnv with extra apiserver flags and extra
// KubeletConfiguration lines (authorization, …).
func newEnvWith(t *testing.T, apiserverFlags []string, extraConfig string) *env {
	t.Helper()
	t.Cleanup(func() { containerdtest.RemoveCgroups("kinc-test") }) // cleanups run last-in first-out: after containerd stopped
	ctrd := containerdtest.Start(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The kubelet trusts its own client CA; the apiserver presents a certificate from it.
	clientCA, err := pki.NewCA("kubelet-client-ca", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	apiClient, err := clientCA.Issue(pki.ClientSpec("kube-apiserver-kubelet-client", "kubeadm:cluster-admins"))
	if err != nil {
		t.Fatal(err)
	}
	api := apiservertest.Start(t, apiservertest.Options{ExtraFlags: append([]string{
		"--kubelet-client-certificate=" + write("apiserver-kubelet-client.crt", apiClient.CertPEM),
		"--kubelet-client-key=" + write("apiserver-kubelet-client.key", apiClient.KeyPEM),
	}, apiserverFlags...)})
	e := &env{t: t, ctrd: ctrd, api: api, client: kubernetes.NewForConfigOrDie(api.Config), dir: dir,
		manifests: filepath.Join(dir, "manifests"), logs: &syncBuffer{}, clientCA: clientCA}
	if err := os.MkdirAll(e.manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	config := fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %d
healthzPort: 0
staticPodPath: %s
podLogsDir: %s
cgroupDriver: cgroupfs
cgroupRoot: /kinc-test
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
authentication:
  x509:
    clientCAFile: %s
%s`, port, e.manifests, filepath.Join(dir, "pods"), write("client-ca.crt", clientCA.CertPEM), extraConfig)
	e.port = port
	e.opts = kubelet.NewOptions()
	e.opts.ConfigFile = write("config.yaml", []byte(config))
	e.opts.Kubeconfig = api.Kubeconfig
	e.opts.ContainerRuntimeEndpoint = ctrd.Endpoint
	e.opts.NodeIP = "127.0.0.1"
	e.opts.HostnameOverride = nodeName
	e.opts.RootDir = filepath.Join(dir, "kubelet")
	e.opts.NodeLabels = map[string]string{"node-role.kubernetes.io/control-plane": ""}
	e.opts.RegisterWithTaints = []string{"node-role.kubernetes.io/control-plane:NoSchedule"}
	t.Cleanup(func() {
		if e.stop != nil {
			e.stop()
		}
		if os.Getenv("KINC_TEST_KUBELET_LOG") != "" {
			t.Logf("kubelet log:\n%s", e.logs.String())
		} else if t.Failed() {
			t.Logf("kubelet log:\n%s", tail(e.logs.String(), 60))
		}
	})
	return e
}

func (e *env) startKubelet() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() {
		defer close(done)
		if err := kubelet.Run(ctx, e.opts, logger); err != nil {
			fmt.Fprintf(e.logs, "kubelet.Run: %v\n", err)
		}
	}()
	e.stop = func() { cancel(); <-done; e.stop = nil }
}

func (e *env) writeManifest(name, body string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.manifests, name), []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// eventually polls f until it returns nil, failing t after timeout with its last error.
func eventually(t *testing.T, what string, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (e *env) pod(ns, name string) (*v1.Pod, error) {
	return e.client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
}

// readySandboxes counts the ready sandboxes by pod name.
func (e *env) readySandboxes() map[string]int {
	out := map[string]int{}
	for _, sb := range e.sandboxes() {
		out[sb.Metadata.Name]++
	}
	return out
}

func (e *env) sandboxes() []*runtimeapi.PodSandbox {
	sbs, _ := e.ctrd.Runtime.ListPodSandbox(context.Background(), &runtimeapi.PodSandboxFilter{
		State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
	return sbs
}

func staticManifest(message string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: static-web
  namespace: kube-system
  labels: {component: static-web, tier: control-plane}
spec:
  hostNetwork: true
  containers:
  - name: web
    image: %s
    imagePullPolicy: Never
    command: [/testbin]
    args: [echo, %s, --, sleep, inf]
`, containerdtest.TestImage, message)
}

func running(p *v1.Pod) error {
	if p.Status.Phase != v1.PodRunning {
		return fmt.Errorf("pod %s phase %q, conditions %+v, statuses %+v", p.Name, p.Status.Phase, p.Status.Conditions, p.Status.ContainerStatuses)
	}
	for _, c := range p.Status.ContainerStatuses {
		if !c.Ready {
			return fmt.Errorf("container %s not ready: %+v", c.Name, c.State)
		}
	}
	return nil
}

func podLogs(client kubernetes.Interface, ns, name string, opts *v1.PodLogOptions) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rc, err := client.CoreV1().Pods(ns).GetLogs(name, opts).Stream(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
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

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
