package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/internal/testenv"
)

// TestIntegrationKubectl drives the real kubectl through the apiserver to
// the fake kubelet: exec (stdout, exit code, piped stdin), attach,
// port-forward and nodes/proxy, over WebSocket (kubectl 1.30+ for exec,
// 1.31+ for port-forward) and over SPDY (the same binaries with their
// WebSocket client features turned off, as older kubectls behave).
func TestIntegrationKubectl(t *testing.T) {
	e := setup(t)
	if e.hostIP != "" {
		e.startBackend(t)
	}
	debuggers := 0
	for _, bin := range testenv.KubectlVersions(t) {
		for _, proto := range []string{"websocket", "spdy"} {
			t.Run(filepath.Base(bin)+"/"+proto, func(t *testing.T) {
				env := []string{"KUBECONFIG=" + e.inst.Kubeconfig, "HOME=" + t.TempDir()}
				if proto == "spdy" {
					env = append(env, "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false", "KUBECTL_PORT_FORWARD_WEBSOCKETS=false")
				}
				kubectl := func(stdin string, args ...string) (string, int) {
					t.Helper()
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					cmd := exec.CommandContext(ctx, bin, args...)
					cmd.Env = append(os.Environ(), env...)
					cmd.Stdin = strings.NewReader(stdin)
					out, err := cmd.CombinedOutput()
					var exit *exec.ExitError
					if errors.As(err, &exit) {
						return string(out), exit.ExitCode()
					}
					if err != nil {
						t.Fatalf("kubectl %v: %v", args, err)
					}
					return string(out), 0
				}
				for _, tc := range []struct {
					stdin string
					args  []string
					out   string
					code  int
				}{
					{"", []string{"exec", "web", "--", "echo", "hello"}, "hello\n", 0},
					{"", []string{"exec", "web", "-c", "app", "--", "fail", "3", "oops"}, "oops\ncommand terminated with exit code 3\n", 3},
					{"hi there\n", []string{"exec", "-i", "web", "--", "cat"}, "hi there\n", 0},
					{"", []string{"exec", "web", "-c", "nope", "--", "ls"}, "Error from server (BadRequest): container nope is not valid for pod web\n", 1},
					{"typed\n", []string{"attach", "-i", "web"}, "attached\ntyped\n", 0},
					{"", []string{"get", "--raw", "/api/v1/nodes/node-1/proxy/healthz"}, "ok", 0},
				} {
					if tc.args[0] == "get" && e.hostIP == "" {
						continue // nodes/proxy refuses a loopback kubelet
					}
					out, code := kubectl(tc.stdin, tc.args...)
					out = stripNoise(out)
					if out != tc.out || code != tc.code {
						t.Errorf("kubectl %s: exit %d, output %q; want %d, %q", strings.Join(tc.args, " "), code, out, tc.code, tc.out)
					}
				}
				// kubectl falls back to SPDY silently when a WebSocket upgrade
				// fails: its log says which protocol ran.
				if out, _ := kubectl("", "exec", "web", "-v=6", "--", "echo", "x"); proto == "websocket" && supportsWebSockets(t, bin) {
					if strings.Contains(out, "fallback") || !strings.Contains(out, "The subprotocol is v5.channel.k8s.io") {
						t.Errorf("kubectl exec did not use its WebSocket:\n%s", out)
					}
				}

				if e.hostIP != "" {
					kubectlProxy(t, bin, env)
				}

				// kubectl debug adds an ephemeral container targeting app
				// (without -i it does not wait for the kubelet to start it);
				// attach reaches it.
				if proto == "spdy" {
					debuggers++
					name := fmt.Sprintf("debugger-%d", debuggers)
					out, code := kubectl("", "debug", "web", "--image=busybox", "--target=app", "-c", name)
					if code != 0 {
						t.Fatalf("kubectl debug: %d %s", code, out)
					}
					out, _ = kubectl("", "get", "pod", "web", "-o", "jsonpath={.spec.ephemeralContainers[?(@.name==\""+name+"\")].targetContainerName}")
					if out != "app" {
						t.Errorf("ephemeral container %s targets %q, want app", name, out)
					}
					if out, code := kubectl("", "attach", "web", "-c", name); code != 0 || stripNoise(out) != "attached\n" {
						t.Errorf("attach to the ephemeral container: %d %q", code, out)
					}
				}

				// port-forward: kubectl prints the local port, the fake
				// kubelet greets with the pod's port and echoes.
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, "port-forward", "-v=4", "pod/web", ":80")
				cmd.Env = append(os.Environ(), env...)
				stdout, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				defer func() { cancel(); _ = cmd.Wait() }()
				line, err := bufio.NewReader(stdout).ReadString('\n')
				m := regexp.MustCompile(`127\.0\.0\.1:(\d+) -> 80`).FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("port-forward printed %q, %v", line, err)
				}
				for i := 0; i < 2; i++ {
					c, err := net.Dial("tcp", "127.0.0.1:"+m[1])
					if err != nil {
						t.Fatal(err)
					}
					_ = c.SetDeadline(time.Now().Add(20 * time.Second))
					br := bufio.NewReader(c)
					greeting, _ := br.ReadString('\n')
					fmt.Fprintf(c, "ping %d\n", i)
					echo, _ := br.ReadString('\n')
					c.Close()
					if greeting != "port 80\n" || echo != fmt.Sprintf("ping %d\n", i) {
						t.Errorf("port-forward connection %d: %q then %q", i, greeting, echo)
					}
				}
				cancel()
				_ = cmd.Wait()
				if proto == "websocket" && supportsWebSockets(t, bin) && (strings.Contains(stderr.String(), "fallback") ||
					!strings.Contains(stderr.String(), "Before WebSocket Upgrade") || !strings.Contains(stderr.String(), "negotiated protocol: portforward.k8s.io")) {
					t.Errorf("kubectl port-forward did not tunnel through its WebSocket:\n%s", stderr.String())
				}
			})
		}
	}
}

// kubectlProxy runs `kubectl proxy` and reaches the Service websvc
// through it (services/proxy).
func kubectlProxy(t *testing.T, bin string, env []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "proxy", "--port=0")
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	m := regexp.MustCompile(`Starting to serve on (\S+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("kubectl proxy printed %q, %v", line, err)
	}
	resp, err := http.Get("http://" + m[1] + "/api/v1/namespaces/default/services/websvc:http/proxy/through/kubectl?q=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "GET /through/kubectl?q=1 " {
		t.Errorf("kubectl proxy to the service: %d %q", resp.StatusCode, body)
	}
}

// supportsWebSockets reports whether bin is kubectl 1.31 or later, which
// uses WebSockets for exec and port-forward by default.
func supportsWebSockets(t *testing.T, bin string) bool {
	t.Helper()
	out, err := exec.Command(bin, "version", "--client", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl version: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`"minor": "(\d+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("kubectl version: %s", out)
	}
	var minor int
	_, _ = fmt.Sscan(m[1], &minor)
	return minor >= 31
}

// stripNoise drops the warnings kubectl may print about the fallback or
// deprecated flags, which are not what is tested.
func stripNoise(out string) string {
	var keep []string
	for _, l := range strings.SplitAfter(out, "\n") {
		if strings.HasPrefix(l, "Warning:") || strings.Contains(l, "Defaulted container") || strings.HasPrefix(l, "If you don't see a command prompt") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "")
}
