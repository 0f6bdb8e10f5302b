package proxy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
)

func TestIntegrationExec(t *testing.T) {
	e := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, tc := range []struct {
		name           string
		opts           corev1.PodExecOptions
		stdin          string
		resize         bool
		stdout, stderr string
		code           int
	}{
		{name: "stdout", opts: corev1.PodExecOptions{Command: []string{"echo", "hello", "world"}, Stdout: true, Stderr: true}, stdout: "hello world\n"},
		{name: "exit code", opts: corev1.PodExecOptions{Command: []string{"fail", "3", "oops"}, Stdout: true, Stderr: true}, stderr: "oops\n", code: 3},
		{name: "stdin closes", opts: corev1.PodExecOptions{Command: []string{"cat"}, Stdin: true, Stdout: true, Stderr: true}, stdin: "piped\nthrough\n", stdout: "piped\nthrough\n"},
		{name: "tty resize", opts: corev1.PodExecOptions{Command: []string{"size"}, Stdout: true, TTY: true}, resize: true, stdout: "120x40\n"},
	} {
		for proto, ex := range e.executors(t, e.execURL("web", "exec", &tc.opts)) {
			t.Run(tc.name+"/"+proto, func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				so := remotecommand.StreamOptions{Stdout: &stdout, Tty: tc.opts.TTY}
				if tc.opts.Stderr {
					so.Stderr = &stderr
				}
				if tc.opts.Stdin {
					so.Stdin = strings.NewReader(tc.stdin)
				}
				if tc.resize {
					so.TerminalSizeQueue = &oneSize{size: &remotecommand.TerminalSize{Width: 120, Height: 40}}
				}
				err := ex.StreamWithContext(ctx, so)
				var exit utilexec.CodeExitError
				switch {
				case tc.code == 0 && err != nil:
					t.Fatalf("exec: %v", err)
				case tc.code != 0 && (!errors.As(err, &exit) || exit.Code != tc.code):
					t.Fatalf("exec error %v (%T), want exit code %d", err, err, tc.code)
				}
				if stdout.String() != tc.stdout || stderr.String() != tc.stderr {
					t.Errorf("stdout %q stderr %q, want %q and %q", stdout.String(), stderr.String(), tc.stdout, tc.stderr)
				}
			})
		}
	}

	t.Run("attach", func(t *testing.T) {
		opts := &corev1.PodAttachOptions{Stdin: true, Stdout: true, Stderr: true}
		for proto, ex := range e.executors(t, e.execURL("web", "attach", opts)) {
			var stdout bytes.Buffer
			if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("typed\n"), Stdout: &stdout, Stderr: io.Discard}); err != nil {
				t.Fatalf("%s attach: %v", proto, err)
			}
			if got := stdout.String(); got != "attached\ntyped\n" {
				t.Errorf("%s attach stdout %q", proto, got)
			}
		}
	})

	t.Run("kubelet client certificate", func(t *testing.T) {
		clients, requests := e.kubelet.seen()
		for i, cn := range clients {
			if cn != kubeletClientCN {
				t.Errorf("request %s presented %q, want %q", requests[i], cn, kubeletClientCN)
			}
		}
		want := "/exec/default/web/app?command=echo&command=hello&command=world&error=1&output=1"
		found := false
		for _, r := range requests {
			found = found || strings.HasSuffix(r, want)
		}
		if !found {
			t.Errorf("no kubelet request ends with %s: %q", want, requests)
		}
	})
}

// kubectl cp streams a tar archive through exec: 10 MiB go through stdin
// and come back on stdout intact over both protocols.
func TestIntegrationExecBulk(t *testing.T) {
	e := setup(t)
	data := make([]byte, 10<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	want := sha256.Sum256(data)
	u := e.execURL("web", "exec", &corev1.PodExecOptions{Command: []string{"cat"}, Stdin: true, Stdout: true, Stderr: true})
	for proto, ex := range e.executors(t, u) {
		h := sha256.New()
		n := &countingWriter{w: h}
		start := time.Now()
		err := ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdin: bytes.NewReader(data), Stdout: n, Stderr: io.Discard})
		if err != nil || n.n != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("%s: %d bytes back (want %d), checksum match %v, %v", proto, n.n, len(data), bytes.Equal(h.Sum(nil), want[:]), err)
		}
		t.Logf("%s: 10 MiB round trip in %v", proto, time.Since(start))
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.w.Write(p)
}

// With --v=4 every request passes through the request log, whose response
// writer must still hand the connection over to the upgraded protocols.
func TestIntegrationExecVerbose(t *testing.T) {
	e := setup(t, "--v=4")
	u := e.execURL("web", "exec", &corev1.PodExecOptions{Command: []string{"echo", "hi"}, Stdout: true})
	for proto, ex := range e.executors(t, u) {
		var out bytes.Buffer
		if err := ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: &out}); err != nil || out.String() != "hi\n" {
			t.Errorf("%s: %q, %v", proto, out.String(), err)
		}
	}
	log, err := os.ReadFile(e.inst.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "status=101") {
		t.Errorf("the request log has no 101 for the upgrades:\n%s", log)
	}
}

// A client that goes away mid-session ends the kubelet's session too, and
// leaves no goroutine behind in the apiserver.
func TestIntegrationExecDisconnect(t *testing.T) {
	e := setup(t)
	u := e.execURL("web", "exec", &corev1.PodExecOptions{Command: []string{"wait"}, Stdout: true, Stderr: true})
	before := e.goroutines(t)
	for round := 0; round < 3; round++ {
		for proto, ex := range e.executors(t, u) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard, Stderr: io.Discard})
			}()
			var gone chan struct{}
			select {
			case gone = <-e.kubelet.waiting:
			case err := <-done:
				t.Fatalf("%s: session ended early: %v", proto, err)
			case <-time.After(20 * time.Second):
				t.Fatalf("%s: the command never started", proto)
			}
			cancel()
			select {
			case <-gone:
			case <-time.After(20 * time.Second):
				t.Fatalf("%s: the kubelet's session outlived its client", proto)
			}
			<-done
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		after := e.goroutines(t)
		if after <= before+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("apiserver goroutines: %d before the sessions, %d after", before, after)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type oneSize struct{ size *remotecommand.TerminalSize }

func (o *oneSize) Next() *remotecommand.TerminalSize {
	s := o.size
	o.size = nil
	return s // nil: no more resizes
}

func TestIntegrationStreamErrors(t *testing.T) {
	e := setup(t)
	e.createPod(t, "two", "node-1", "a", "b")
	e.createPod(t, "orphan", "gone", "c")
	ctx := context.Background()
	if _, err := e.client.CoreV1().Pods(e.ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pending"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := "/api/v1/namespaces/default/pods/"
	for _, tc := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"POST", pods + "two/exec?command=ls&stdout=true", 400, "a container name must be specified for pod two, choose one of: [a b]"},
		{"POST", pods + "web/exec?command=ls&stdout=true&container=nope", 400, "container nope is not valid for pod web"},
		{"POST", pods + "nope/exec?command=ls&stdout=true", 404, `pods \"nope\" not found`},
		{"POST", pods + "pending/exec?command=ls&stdout=true", 400, "pod pending does not have a host assigned"},
		{"POST", pods + "orphan/exec?command=ls&stdout=true", 404, `nodes \"gone\" not found`},
		{"POST", pods + "web/exec?command=ls&stdout=true", 400, "Upgrade request required"},
		{"GET", pods + "web/attach?stdout=true", 400, "Upgrade request required"},
		{"POST", pods + "web/portforward?ports=80", 400, "Upgrade request required"},
		{"POST", pods + "web/portforward?ports=http", 400, "cannot convert to []int32"},
		{"PUT", pods + "web/exec?command=ls", 405, ""},
		{"POST", pods + "web/exec?command=ls&stdout=true&dryRun=All", 400, "dryRun is not supported"},
	} {
		code, got := e.send(t, tc.method, tc.path, nil)
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, code, got, tc.code, tc.want)
		}
	}

	// A pod the kubelet does not know: its refusal reaches the client, on
	// the error channel of a translated session.
	e.createPod(t, "ghost", "node-1", "c")
	gu := e.execURL("ghost", "exec", &corev1.PodExecOptions{Command: []string{"ls"}, Stdout: true})
	for proto, ex := range e.executors(t, gu) {
		err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "pod does not exist") {
			t.Errorf("%s exec into a pod the kubelet does not know: %v", proto, err)
		}
	}
	pu := e.client.CoreV1().RESTClient().Post().Namespace(e.ns).Resource("pods").Name("ghost").SubResource("portforward").URL()
	ws, err := portforward.NewSPDYOverWebsocketDialerForStreaming(pu, e.inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.Dial("portforward.k8s.io"); err == nil || !strings.Contains(err.Error(), "pod does not exist") {
		t.Errorf("websocket port-forward to a pod the kubelet does not know: %v", err)
	}

	// What the executors report for a refused session.
	u := e.execURL("two", "exec", &corev1.PodExecOptions{Command: []string{"ls"}, Stdout: true})
	for proto, ex := range e.executors(t, u) {
		err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "a container name must be specified") {
			t.Errorf("%s: %v", proto, err)
		}
	}
}
