package kubelet_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"

	"github.com/kinc-dev/kinc/pkg/kubelet/containerdtest"
)

// streamingManifest: a pod (own network namespace) with a container to
// exec into, one that echoes its stdin (attach), and a TCP server on 8080.
var streamingManifest = fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: streams
  namespace: default
spec:
  containers:
  - name: shell
    image: %[1]s
    imagePullPolicy: Never
    command: [/testbin, sleep, inf]
  - name: echo
    image: %[1]s
    imagePullPolicy: Never
    stdin: true
    command: [/testbin, cat]
  - name: server
    image: %[1]s
    imagePullPolicy: Never
    command: [/testbin, listen, "8080", hello]
`, containerdtest.TestImage)

// kubeletAPI is a client of the kubelet's :10250 with the apiserver's
// kubelet client certificate.
type kubeletAPI struct {
	base string // https://127.0.0.1:<port>
	rest *rest.Config
	http *http.Client
}

func (e *env) kubeletAPI(t *testing.T) *kubeletAPI {
	t.Helper()
	cfg, err := os.ReadFile(e.opts.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^port: (\d+)$`).FindSubmatch(cfg)
	if m == nil {
		t.Fatal("no port in the kubelet config")
	}
	crt, key := e.dir+"/apiserver-kubelet-client.crt", e.dir+"/apiserver-kubelet-client.key"
	pair, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	base := "https://127.0.0.1:" + string(m[1])
	rc := &rest.Config{Host: base, TLSClientConfig: rest.TLSClientConfig{CertFile: crt, KeyFile: key, Insecure: true}}
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{pair}, InsecureSkipVerify: true}}} // the kubelet's self-signed serving cert
	return &kubeletAPI{base: base, rest: rc, http: hc}
}

func (k *kubeletAPI) post(path string) (int, string, error) {
	resp, err := k.http.Post(k.base+path, "", nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// The client protocols: SPDY/3.1 (kubectl before 1.30/1.31) and WebSocket
// (v5.channel.k8s.io for exec and attach, SPDY tunnelled in WebSocket for
// port-forward).
var protocols = []string{"spdy", "websocket"}

func (k *kubeletAPI) executor(t *testing.T, proto, path string) remotecommand.Executor {
	t.Helper()
	u, _ := url.Parse(k.base + path)
	var ex remotecommand.Executor
	var err error
	if proto == "websocket" {
		ex, err = remotecommand.NewWebSocketExecutor(k.rest, "GET", u.String())
	} else {
		ex, err = remotecommand.NewSPDYExecutor(k.rest, "POST", u)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func (k *kubeletAPI) dialer(t *testing.T, proto, path string) httpstream.Dialer {
	t.Helper()
	u, _ := url.Parse(k.base + path)
	if proto == "websocket" {
		d, err := portforward.NewSPDYOverWebsocketDialer(u, k.rest)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	transport, upgrader, err := spdy.RoundTripperFor(k.rest)
	if err != nil {
		t.Fatal(err)
	}
	return spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
}

func (k *kubeletAPI) stream(t *testing.T, proto, path string, opts remotecommand.StreamOptions) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return k.executor(t, proto, path).StreamWithContext(ctx, opts)
}

func (k *kubeletAPI) exec(t *testing.T, proto, container string, cmd []string, opts remotecommand.StreamOptions) error {
	t.Helper()
	q := url.Values{"command": cmd}
	for p, on := range map[string]bool{"input": opts.Stdin != nil, "output": opts.Stdout != nil, "error": opts.Stderr != nil, "tty": opts.Tty} {
		if on {
			q.Set(p, "1")
		}
	}
	return k.stream(t, proto, "/exec/default/streams-"+nodeName+"/"+container+"?"+q.Encode(), opts)
}

// streamingGoroutines counts goroutines serving or driving a stream in this
// process (the kubelet runs in it): the kubelet's handlers, the proxy's
// copiers, WebSocket and SPDY sessions.
func streamingGoroutines() []string {
	buf := make([]byte, 8<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		// The test's own client-go executors run in this process too; after a
		// cancel client-go's WebSocket executor keeps its readers until the
		// connection times out. Only the kubelet's side is under test.
		if strings.Contains(g, "k8s.io/client-go@") && !strings.Contains(g, "kinc/pkg/kubelet") {
			continue
		}
		for _, marker := range []string{"kubelet/server.(*streamer)", "wstunnel.relay", "kubelet/server.newResizeQueue",
			"UpgradeAwareHandler", "wsstream.", "spdystream.", "remotecommand."} {
			if strings.Contains(g, marker) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// TestIntegrationStreaming drives the kubelet's /exec, /attach,
// /portForward and /run, backed by a real containerd's streaming server,
// with client-go's SPDY and WebSocket clients.
func TestIntegrationStreaming(t *testing.T) {
	e := newEnvWith(t, nil, standaloneAuth)
	e.opts.Kubeconfig = "" // standalone: the static pod is all we need
	e.writeManifest("streams.yaml", streamingManifest)
	e.startKubelet()
	k := e.kubeletAPI(t)
	pod := "streams-" + nodeName
	eventually(t, "containers running", 90*time.Second, func() error {
		for _, c := range []string{"shell", "echo", "server"} {
			code, body, err := k.post("/run/default/" + pod + "/" + c + "?cmd=/testbin+echo+up")
			if err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("%s: %d %s", c, code, body)
			}
		}
		return nil
	})

	t.Run("run", func(t *testing.T) {
		if code, body, _ := k.post("/run/default/" + pod + "/shell?cmd=/testbin+echo+ran+--+stderr+oops"); code != 200 || body != "ran\noops\n" {
			t.Errorf("run = %d %q", code, body)
		}
		if code, body, _ := k.post("/run/default/" + pod + "/shell?cmd=/testbin+exit+4"); code != 500 || body != "command '/testbin exit 4' exited with 4: " {
			t.Errorf("run exit 4 = %d %q", code, body)
		}
		if code, body, _ := k.post("/run/default/nope/shell?cmd=ls"); code != 404 || body != "pod does not exist" {
			t.Errorf("run unknown pod = %d %q", code, body)
		}
	})

	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) { testStreams(t, k, proto, pod) })
	}
}

func testStreams(t *testing.T, k *kubeletAPI, proto, pod string) {
	t.Run("exec", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := k.exec(t, proto, "shell", []string{"/testbin", "echo", "out", "--", "stderr", "err", "--", "exit", "3"},
			remotecommand.StreamOptions{Stdout: &out, Stderr: &errOut})
		var exit interface{ ExitStatus() int }
		if !errors.As(err, &exit) || exit.ExitStatus() != 3 {
			t.Errorf("exit: %v, want exit status 3", err)
		}
		if out.String() != "out\n" || errOut.String() != "err\n" {
			t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
		}
	})

	t.Run("exec stdin", func(t *testing.T) {
		var out bytes.Buffer
		err := k.exec(t, proto, "shell", []string{"/testbin", "cat"}, remotecommand.StreamOptions{Stdin: strings.NewReader("piped\nthrough\n"), Stdout: &out})
		if err != nil || out.String() != "piped\nthrough\n" {
			t.Errorf("cat = %q, %v", out.String(), err)
		}
	})

	t.Run("exec tty resize", func(t *testing.T) {
		out := &syncBuffer{}
		sizes := &sizeQueue{ch: make(chan *remotecommand.TerminalSize, 2)}
		sizes.ch <- &remotecommand.TerminalSize{Width: 100, Height: 30}
		stdinR, stdinW := io.Pipe()
		go func() {
			if out.waitFor("size 30 100", 20*time.Second) {
				sizes.ch <- &remotecommand.TerminalSize{Width: 120, Height: 40}
			}
			if out.waitFor("size 40 120", 20*time.Second) {
				io.WriteString(stdinW, "q\n")
			}
			time.Sleep(time.Second) // let the line reach the process before stdin ends
			stdinW.Close()
			close(sizes.ch)
		}()
		err := k.exec(t, proto, "shell", []string{"/testbin", "winch"},
			remotecommand.StreamOptions{Stdin: stdinR, Stdout: out, Tty: true, TerminalSizeQueue: sizes})
		if err != nil || !strings.Contains(out.String(), "size 40 120") {
			t.Errorf("tty exec: %v, output %q", err, out.String())
		}
	})

	t.Run("exec errors", func(t *testing.T) {
		var out bytes.Buffer
		err := k.exec(t, proto, "nope", []string{"/testbin", "echo"}, remotecommand.StreamOptions{Stdout: &out})
		if err == nil || (proto == "spdy" && !strings.Contains(err.Error(), `container not found ("nope")`)) {
			t.Errorf("unknown container: %v", err)
		}
		err = k.stream(t, proto, "/exec/default/nope/shell?command=ls&output=1", remotecommand.StreamOptions{Stdout: &out})
		if err == nil || (proto == "spdy" && !strings.Contains(err.Error(), "pod does not exist")) {
			t.Errorf("unknown pod: %v", err)
		}
		err = k.stream(t, proto, "/exec/default/"+pod+"/shell?output=1", remotecommand.StreamOptions{Stdout: &out})
		if err == nil || (proto == "spdy" && !strings.Contains(err.Error(), "you must specify at least one command")) {
			t.Errorf("no command: %v", err)
		}
		t.Logf("last error as the client shows it: %v", err)
	})

	t.Run("attach", func(t *testing.T) {
		// one attach only listens; another writes to the container's stdin,
		// which echoes it: the listener sees it.
		listener := &syncBuffer{}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ex := k.executor(t, proto, "/attach/default/"+pod+"/echo?output=1")
		done := make(chan error, 1)
		go func() { done <- ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: listener}) }()
		time.Sleep(500 * time.Millisecond) // the listener's session is up
		var echoed syncBuffer
		stdinR, stdinW := io.Pipe()
		word := "attached-" + proto
		go func() {
			io.WriteString(stdinW, word+"\n")
			echoed.waitFor(word, 10*time.Second)
			stdinW.Close()
		}()
		wctx, wcancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer wcancel()
		wex := k.executor(t, proto, "/attach/default/"+pod+"/echo?input=1&output=1")
		_ = wex.StreamWithContext(wctx, remotecommand.StreamOptions{Stdin: stdinR, Stdout: &echoed})
		if !listener.waitFor(word+"\n", 10*time.Second) {
			t.Errorf("listener saw %q (writer saw %q)", listener.String(), echoed.String())
		}
		cancel()
		<-done
	})

	t.Run("port-forward", func(t *testing.T) {
		stop, ready := make(chan struct{}), make(chan struct{})
		var pfOut, pfErr bytes.Buffer
		fw, err := portforward.NewOnAddresses(k.dialer(t, proto, "/portForward/default/"+pod), []string{"127.0.0.1"}, []string{"0:8080"}, stop, ready, &pfOut, &pfErr)
		if err != nil {
			t.Fatal(err)
		}
		fwDone := make(chan error, 1)
		go func() { fwDone <- fw.ForwardPorts() }()
		defer func() { close(stop); <-fwDone }()
		select {
		case <-ready:
		case err := <-fwDone:
			t.Fatalf("port-forward: %v\n%s", err, pfErr.String())
		case <-time.After(20 * time.Second):
			t.Fatal("port-forward not ready")
		}
		ports, _ := fw.GetPorts()
		for i := 0; i < 2; i++ { // two connections over one session
			c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(c)
			greeting, err := r.ReadString('\n')
			if err != nil || greeting != "hello\n" {
				t.Fatalf("greeting %q %v", greeting, err)
			}
			fmt.Fprintf(c, "ping %d\n", i)
			if echo, err := r.ReadString('\n'); err != nil || echo != fmt.Sprintf("ping %d\n", i) {
				t.Errorf("echo %q %v", echo, err)
			}
			c.Close()
		}
	})

	t.Run("port-forward closed port", func(t *testing.T) {
		conn, _, err := k.dialer(t, proto, "/portForward/default/"+pod).Dial(portforward.PortForwardProtocolV1Name)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		pair := func(port, id string) (errs, data httpstream.Stream) {
			h := http.Header{}
			h.Set(v1.StreamType, v1.StreamTypeError)
			h.Set(v1.PortHeader, port)
			h.Set(v1.PortForwardRequestIDHeader, id)
			es, err := conn.CreateStream(h)
			if err != nil {
				t.Fatal(err)
			}
			es.Close() // the client writes nothing on it
			h.Set(v1.StreamType, v1.StreamTypeData)
			ds, err := conn.CreateStream(h)
			if err != nil {
				t.Fatal(err)
			}
			return es, ds
		}
		errs, data := pair("8081", "1")
		msg, _ := io.ReadAll(errs)
		if !strings.Contains(string(msg), "8081") {
			t.Errorf("closed port: error stream %q, want an error about port 8081", msg)
		}
		t.Logf("closed port: error stream says %q", msg)
		data.Reset()
		// the same connection still forwards to the open port
		errs, data = pair("8080", "2")
		r := bufio.NewReader(data)
		done := make(chan string, 1)
		go func() { line, _ := r.ReadString('\n'); done <- line }()
		select {
		case line := <-done:
			if line != "hello\n" {
				t.Errorf("open port after a closed one: %q", line)
			}
		case <-time.After(10 * time.Second):
			t.Error("open port after a closed one: no greeting")
		}
		// Reset, not Close: the server keeps its side open, and spdystream's
		// Close of the connection waits for every stream to end on both sides,
		// so a half-closed stream would keep the test's own connection (and
		// its goroutines) alive for the rest of the test.
		data.Reset()
		errs.Reset()
	})

	t.Run("client goes away mid-stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		marker := "mid-stream-" + proto
		ex := k.executor(t, proto, "/exec/default/"+pod+"/shell?command=/testbin&command=sleep&command=inf&command="+marker+"&input=1&output=1")
		stdinR, stdinW := io.Pipe()
		defer stdinW.Close()
		done := make(chan error, 1)
		go func() {
			done <- ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdinR, Stdout: io.Discard})
		}()
		eventually(t, "stream proxied", 10*time.Second, func() error {
			if n := serverGoroutines(); n == 0 {
				return errors.New("no streaming goroutine in the kubelet yet")
			}
			return nil
		})
		cancel()
		<-done
		stdinW.Close() // client-go's stdin copier waits for its reader
		// 30s: on a loaded machine client-go's own session goroutines take
		// a while to notice the cancelled context.
		eventually(t, "streaming goroutines gone", 30*time.Second, func() error {
			if gs := streamingGoroutines(); len(gs) != 0 {
				return fmt.Errorf("%d streaming goroutines left:\n%s", len(gs), strings.Join(gs, "\n\n"))
			}
			return nil
		})
		t.Logf("exec'd processes left after the client went away: %d", len(processes(marker)))
	})
}

// processes returns the pids of host processes whose command line holds s.
func processes(s string) []string {
	var pids []string
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), s) {
			pids = append(pids, d.Name())
		}
	}
	return pids
}

// serverGoroutines counts goroutines in the kubelet's streaming handlers.
func serverGoroutines() int {
	buf := make([]byte, 8<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "kubelet/server.(*streamer)")
}

// waitFor reports whether s appeared within timeout.
func (w *syncBuffer) waitFor(s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(w.String(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// sizeQueue hands the terminal sizes sent on ch to the executor.
type sizeQueue struct {
	ch chan *remotecommand.TerminalSize
}

func (q *sizeQueue) Next() *remotecommand.TerminalSize { return <-q.ch }
