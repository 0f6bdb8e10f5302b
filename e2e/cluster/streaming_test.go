//go:build e2e

package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/internal/testenv"
)

// streamingCases reaches into pods the way developers do every day, with
// each supported kubectl found (the oldest speaks SPDY, the newest
// WebSockets): exec with exit codes and stdin, cp both ways, port-forward
// from the host, and the node, pod and service proxies. The pod runs on a
// worker, so every stream crosses apiserver → kubelet → containerd.
func streamingCases(t *testing.T, m *multi) {
	const n = "e2e-stream"
	ns := m.namespace(n) // the --namespace flag
	worker := m.name + "-worker"
	m.mustKubectl(fmt.Sprintf(httpdPod, "web", worker), ns, "apply", "-f", "-")
	m.mustKubectl("", ns, "wait", "--for=condition=Ready", "pod/web", "--timeout=90s")
	m.mustKubectl("", ns, "expose", "pod", "web", "--port=80", "--target-port=8080")

	for _, kubectl := range testenv.KubectlVersions(t) {
		version := clientVersion(m.ctx, kubectl)
		t.Run("kubectl "+version, func(t *testing.T) {
			k := func(stdin string, args ...string) (string, error) {
				return runKubectl(m.ctx, kubectl, m.kubeconfig, stdin, append([]string{"-n", n}, args...)...)
			}
			out, err := k("", "exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 3 || !strings.Contains(out, "out") || !strings.Contains(out, "err") {
				t.Errorf("exec exiting 3: %q %v", out, err)
			}
			if out, err := k("piped through\n", "exec", "-i", "web", "--", "cat"); err != nil || out != "piped through\n" {
				t.Errorf("stdin through exec -i: %q %v", out, err)
			}
			if out, err := k("", "exec", "web", "-c", "nope", "--", "true"); err == nil || !strings.Contains(out, "container nope is not valid for pod web") {
				t.Errorf("exec into a missing container: %q %v", out, err)
			}

			// kubectl cp runs tar through exec: 10 MiB in and out, unchanged.
			dir := t.TempDir()
			data := make([]byte, 10<<20)
			_, _ = rand.Read(data)
			src, back := filepath.Join(dir, "blob"), filepath.Join(dir, "blob.back")
			must(t, os.WriteFile(src, data, 0o644))
			if out, err := k("", "cp", src, "web:/tmp/blob"); err != nil {
				t.Fatalf("cp in: %q %v", out, err)
			}
			if out, err := k("", "cp", "web:/tmp/blob", back); err != nil {
				t.Fatalf("cp out: %q %v", out, err)
			}
			if got, err := os.ReadFile(back); err != nil || sha256.Sum256(got) != sha256.Sum256(data) {
				t.Errorf("cp round trip changed the file (%d bytes back, %v)", len(got), err)
			}

			// port-forward from the host to the pod's httpd on a worker.
			pf := exec.CommandContext(m.ctx, kubectl, "--kubeconfig", m.kubeconfig, "-n", n,
				"port-forward", "pod/web", ":8080")
			stdout, err := pf.StdoutPipe()
			must(t, err)
			must(t, pf.Start())
			defer func() { _ = pf.Process.Kill(); _ = pf.Wait() }()
			port := forwardedPort(t, stdout)
			body := httpGet(t, fmt.Sprintf("http://127.0.0.1:%s/index.html", port))
			if body != "served by web\n" {
				t.Errorf("port-forward answered %q", body)
			}
		})
	}

	t.Run("proxy subresources", func(t *testing.T) {
		if out, err := m.kubectl("", "get", "--raw", "/api/v1/nodes/"+worker+"/proxy/healthz"); err != nil || out != "ok" {
			t.Errorf("nodes/proxy healthz: %q %v", out, err)
		}
		if out, err := m.kubectl("", "get", "--raw", "/api/v1/namespaces/"+n+"/pods/web:8080/proxy/index.html"); err != nil || out != "served by web\n" {
			t.Errorf("pods/proxy: %q %v", out, err)
		}
		if out, err := m.kubectl("", "get", "--raw", "/api/v1/namespaces/"+n+"/services/web:80/proxy/index.html"); err != nil || out != "served by web\n" {
			t.Errorf("services/proxy: %q %v", out, err)
		}
	})
}

// httpdPod is a busybox httpd serving "served by <name>" on 8080, pinned to
// node %[2]s.
const httpdPod = `apiVersion: v1
kind: Pod
metadata:
  name: %[1]s
  labels: {app: %[1]s}
spec:
  nodeName: %[2]s
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: ` + framework.BusyboxImage + `
    imagePullPolicy: Never
    command: ["sh", "-c", "mkdir -p /www && echo 'served by %[1]s' > /www/index.html && exec httpd -f -p 8080 -h /www"]
    readinessProbe:
      tcpSocket: {port: 8080}
      periodSeconds: 1
`

// runKubectl runs one kubectl binary against kubeconfig; the error is the
// *exec.ExitError when it exits non-zero, its combined output the string.
func runKubectl(ctx context.Context, kubectl, kubeconfig, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig, "--request-timeout", "60s"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// clientVersion is kubectl's client gitVersion (e.g. v1.33.13).
func clientVersion(ctx context.Context, kubectl string) string {
	out, _ := exec.CommandContext(ctx, kubectl, "version", "--client", "-o", "yaml").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "gitVersion: "); ok {
			return v
		}
	}
	return filepath.Base(kubectl)
}

// forwardedPort reads `Forwarding from 127.0.0.1:<port> -> 8080` from
// kubectl port-forward's output.
func forwardedPort(t *testing.T, r io.Reader) string {
	t.Helper()
	done := make(chan string, 1)
	go func() {
		var buf bytes.Buffer
		b := make([]byte, 256)
		for {
			n, err := r.Read(b)
			buf.Write(b[:n])
			if _, rest, ok := strings.Cut(buf.String(), "Forwarding from 127.0.0.1:"); ok {
				if port, _, ok := strings.Cut(rest, " "); ok {
					done <- port
					_, _ = io.Copy(io.Discard, r)
					return
				}
			}
			if err != nil {
				done <- ""
				return
			}
		}
	}()
	select {
	case p := <-done:
		if p == "" {
			t.Fatal("kubectl port-forward exited before forwarding")
		}
		return p
	case <-time.After(30 * time.Second):
		t.Fatal("kubectl port-forward did not start forwarding within 30s")
	}
	return ""
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return string(b)
}
