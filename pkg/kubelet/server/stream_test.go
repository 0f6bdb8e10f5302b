package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func (f *fakeProvider) PodByName(ns, name string) (*v1.Pod, bool) {
	for _, p := range f.pods {
		if p.Namespace == ns && p.Name == name {
			return p, true
		}
	}
	return nil, false
}

func (f *fakeProvider) RuntimePod(_ context.Context, uid types.UID) (*RuntimePod, error) {
	if rp, ok := f.runtime[uid]; ok {
		return rp, nil
	}
	return &RuntimePod{}, nil
}

// fakeRuntime records the streaming requests and answers url (or err).
type fakeRuntime struct {
	mu       sync.Mutex
	url      string
	err      error
	execs    []*runtimeapi.ExecRequest
	attaches []*runtimeapi.AttachRequest
	forwards []*runtimeapi.PortForwardRequest
	syncs    [][]string
	syncResp *runtimeapi.ExecSyncResponse
}

func (f *fakeRuntime) Exec(_ context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs = append(f.execs, req)
	return &runtimeapi.ExecResponse{Url: f.url}, f.err
}

func (f *fakeRuntime) Attach(_ context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attaches = append(f.attaches, req)
	return &runtimeapi.AttachResponse{Url: f.url}, f.err
}

func (f *fakeRuntime) PortForward(_ context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forwards = append(f.forwards, req)
	return &runtimeapi.PortForwardResponse{Url: f.url}, f.err
}

func (f *fakeRuntime) ExecSync(_ context.Context, id string, cmd []string, _ int64) (*runtimeapi.ExecSyncResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs = append(f.syncs, append([]string{id}, cmd...))
	return f.syncResp, f.err
}

// streamFixture: pod default/p (uid u1) running container c (id cid, TTY
// in its spec) and stopped container d; pod default/nosb has no sandbox.
func streamFixture() (*fakeProvider, *fakeRuntime) {
	p := &fakeProvider{
		pods: []*v1.Pod{
			{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u1"},
				Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c", TTY: true}, {Name: "d"}}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "nosb", Namespace: "default", UID: "u2"}},
		},
		runtime: map[types.UID]*RuntimePod{"u1": {SandboxID: "sb1", Containers: map[string]string{"c": "cid"}}},
	}
	return p, &fakeRuntime{url: "http://127.0.0.1:1/never", syncResp: &runtimeapi.ExecSyncResponse{}}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestStreamingErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		rtErr              error
		code               int
		body               string
	}{
		{"exec without streams", "GET", "/exec/default/p/c?command=ls", nil, nil, 400, "you must specify at least 1 of stdin, stdout, stderr"},
		{"exec tty stderr only", "GET", "/exec/default/p/c?command=ls&tty=1&error=1", nil, nil, 400, "you must specify at least 1 of stdin, stdout, stderr"},
		{"exec without command", "POST", "/exec/default/p/c?output=1", nil, nil, 400, "you must specify at least one command for the container"},
		{"exec unknown pod", "GET", "/exec/default/nope/c?command=ls&output=1", nil, nil, 404, "pod does not exist"},
		{"exec unknown container", "GET", "/exec/default/p/x?command=ls&output=1", nil, nil, 500, `container not found ("x")`},
		{"exec stopped container", "GET", "/exec/default/p/d?command=ls&output=1", nil, nil, 500, `container not found ("d")`},
		{"exec other uid", "GET", "/exec/default/p/u9/c?command=ls&output=1", nil, nil, 500, `container not found ("c")`},
		{"exec runtime not found", "GET", "/exec/default/p/c?command=ls&output=1", nil, grpcstatus.Error(codes.NotFound, "gone"), 404, "rpc error: code = NotFound desc = gone"},
		{"exec runtime busy", "GET", "/exec/default/p/c?command=ls&output=1", nil, grpcstatus.Error(codes.ResourceExhausted, "busy"), 429, "rpc error: code = ResourceExhausted desc = busy"},
		{"exec not an upgrade", "GET", "/exec/default/p/u1/c?command=ls&output=1", nil, nil, 500, "Upgrade request required"},
		{"exec PUT", "PUT", "/exec/default/p/c?command=ls&output=1", nil, nil, 405, ""},
		{"attach unknown container", "POST", "/attach/default/p/x?output=1", nil, nil, 500, "container x not found in pod p_default"},
		{"attach unknown pod", "GET", "/attach/default/nope/c?output=1", nil, nil, 404, "pod does not exist"},
		{"attach without streams", "GET", "/attach/default/p/c", nil, nil, 400, "you must specify at least 1 of stdin, stdout, stderr"},
		{"portForward unknown pod", "GET", "/portForward/default/nope", nil, nil, 404, "pod does not exist"},
		{"portForward other uid", "POST", "/portForward/default/p/u9", nil, nil, 404, "pod not found"},
		{"portForward no sandbox", "GET", "/portForward/default/nosb", nil, nil, 500, `pod not found ("nosb_default")`},
		{"portForward websocket without port", "GET", "/portForward/default/p",
			http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, nil, 400, `query parameter "port" is required`},
		{"portForward websocket bad port", "GET", "/portForward/default/p?port=http",
			http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}}, nil, 400, `unable to parse "http" as a port`},
		{"run unknown pod", "POST", "/run/default/nope/c?cmd=ls", nil, nil, 404, "pod does not exist"},
		{"run unknown container", "POST", "/run/default/p/x?cmd=ls", nil, nil, 500, `container not found ("x")`},
		{"run GET", "GET", "/run/default/p/c?cmd=ls", nil, nil, 405, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, rt := streamFixture()
			rt.err = tc.rtErr
			req := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.header {
				req.Header[k] = v
			}
			rec := httptest.NewRecorder()
			NewHandler(p, rt, quietLogger()).ServeHTTP(rec, req)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("%s %s = %d %q, want %d %q", tc.method, tc.path, rec.Code, rec.Body.String(), tc.code, tc.body)
			}
		})
	}
}

func TestStreamingRequests(t *testing.T) {
	t.Parallel()
	p, rt := streamFixture()
	h := NewHandler(p, rt, quietLogger())
	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}
	do("POST", "/exec/default/p/c?command=sh&command=-c&command=echo+hi&input=1&output=1&error=1&tty=1")
	do("GET", "/exec/default/p/u1/c?command=ls&error=1")
	do("GET", "/attach/default/p/c?output=1&error=1")
	do("GET", "/portForward/default/p/u1")
	want := []*runtimeapi.ExecRequest{
		{ContainerId: "cid", Cmd: []string{"sh", "-c", "echo hi"}, Tty: true, Stdin: true, Stdout: true},
		{ContainerId: "cid", Cmd: []string{"ls"}, Stderr: true},
	}
	if len(rt.execs) != len(want) {
		t.Fatalf("execs %v", rt.execs)
	}
	for i, w := range want {
		g := rt.execs[i]
		if g.ContainerId != w.ContainerId || strings.Join(g.Cmd, "|") != strings.Join(w.Cmd, "|") || g.Tty != w.Tty ||
			g.Stdin != w.Stdin || g.Stdout != w.Stdout || g.Stderr != w.Stderr {
			t.Errorf("exec %d = %v, want %v", i, g, w)
		}
	}
	// attach takes the TTY from the container's spec, not the query
	if len(rt.attaches) != 1 {
		t.Fatalf("attaches %v", rt.attaches)
	}
	if a := rt.attaches[0]; a.ContainerId != "cid" || !a.Tty || a.Stdin || !a.Stdout || !a.Stderr {
		t.Errorf("attach %v", a)
	}
	if len(rt.forwards) != 1 || rt.forwards[0].PodSandboxId != "sb1" {
		t.Errorf("forwards %v", rt.forwards)
	}

	rt.syncResp = &runtimeapi.ExecSyncResponse{Stdout: []byte("out\n"), Stderr: []byte("err\n")}
	rec := do("POST", "/run/default/p/c?cmd=ls+-l+/")
	if rec.Code != 200 || rec.Body.String() != "out\nerr\n" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("run = %d %q %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
	}
	if got := strings.Join(rt.syncs[0], " "); got != "cid ls -l /" {
		t.Errorf("ExecSync got %q", got)
	}
	rt.syncResp = &runtimeapi.ExecSyncResponse{ExitCode: 3, Stderr: []byte("bad")}
	if rec := do("POST", "/run/default/p/u1/c?cmd=false"); rec.Code != 500 || rec.Body.String() != "command 'false' exited with 3: bad" {
		t.Errorf("run exit 3 = %d %q", rec.Code, rec.Body.String())
	}
	rt.syncResp = &runtimeapi.ExecSyncResponse{}
	if rec := do("POST", "/run/default/p/c?cmd=true"); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("run without output = %d %q", rec.Code, rec.Body.String())
	}
}

// echoBackend is a runtime streaming server stand-in: it upgrades any
// request carrying Upgrade and echoes the bytes; others, and URLs with
// "refuse" in the query, get 404.
func echoBackend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" || r.URL.Query().Has("refuse") {
			http.Error(w, "session not found", http.StatusNotFound)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + r.Header.Get("Upgrade") + "\r\n\r\n")
		buf.Flush()
		_, _ = io.Copy(conn, buf)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// upgrade sends an upgrade request for path to addr and returns the
// connection and the response status line.
func upgrade(t *testing.T, addr, path string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "POST "+path+" HTTP/1.1\r\nHost: kubelet\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n")
	r := bufio.NewReader(conn)
	status, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	for { // headers
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
	}
	return conn, r, strings.TrimSpace(status)
}

// TestStreamingProxy: an upgraded exec is proxied both ways to the runtime's
// URL; a client that goes away mid-stream leaves no goroutine behind; a
// runtime that refuses has its answer passed on.
func TestStreamingProxy(t *testing.T) {
	backend := echoBackend(t)
	p, rt := streamFixture()
	rt.url = backend.URL + "/exec/tok"
	kubelet := httptest.NewServer(NewHandler(p, rt, quietLogger()))
	t.Cleanup(kubelet.Close)
	addr := strings.TrimPrefix(kubelet.URL, "http://")

	// warm up both servers once so their own goroutines are in the baseline
	conn, _, _ := upgrade(t, addr, "/exec/default/p/c?command=cat&input=1&output=1")
	conn.Close()
	time.Sleep(200 * time.Millisecond)
	base := runtime.NumGoroutine()

	for i := 0; i < 5; i++ {
		conn, r, status := upgrade(t, addr, "/exec/default/p/c?command=cat&input=1&output=1")
		if status != "HTTP/1.1 101 Switching Protocols" {
			t.Fatalf("upgrade status %q", status)
		}
		io.WriteString(conn, "ping\n")
		if line, err := r.ReadString('\n'); err != nil || line != "ping\n" {
			t.Fatalf("echo %q %v", line, err)
		}
		conn.Close() // mid-stream
	}
	waitGoroutines(t, base)

	rt.url = backend.URL + "/exec/tok"
	for _, path := range []string{"/attach/default/p/c?output=1", "/portForward/default/p"} {
		conn, _, status := upgrade(t, addr, path)
		if status != "HTTP/1.1 101 Switching Protocols" {
			t.Errorf("%s: upgrade status %q", path, status)
		}
		conn.Close()
	}

	// the runtime refuses the upgrade: its status reaches the client
	rt.url = backend.URL + "/exec/expired?refuse"
	conn, _, status := upgrade(t, addr, "/exec/default/p/c?command=ls&output=1")
	conn.Close()
	if status != "HTTP/1.1 404 Not Found" {
		t.Errorf("refused upgrade status %q", status)
	}
	waitGoroutines(t, base)
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebSocketStatus(t *testing.T) {
	t.Parallel()
	if st := statusOf(nil); st.Status != metav1.StatusSuccess {
		t.Errorf("nil: %+v", st)
	}
	st := statusOf(exec.CodeExitError{Err: errors.New("exit status 3"), Code: 3})
	if st.Status != metav1.StatusFailure || st.Reason != "NonZeroExitCode" || st.Details == nil ||
		len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != "ExitCode" || st.Details.Causes[0].Message != "3" {
		t.Errorf("exit 3: %+v", st)
	}
	if st := statusOf(errors.New("boom")); st.Code != 500 || !strings.Contains(st.Message, "boom") {
		t.Errorf("error: %+v", st)
	}
}

func TestWebSocketRequests(t *testing.T) {
	t.Parallel()
	p, rt := streamFixture()
	h := NewHandler(p, rt, quietLogger())
	ws := func(path, protocol string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Protocol", protocol)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// a tunnelled port-forward names no ports in the query; the runtime is
	// dialled (and here refuses: nothing listens at the fake URL)
	if rec := ws("/portForward/default/p", "SPDY/3.1+portforward.k8s.io"); rec.Code != 500 ||
		!strings.Contains(rec.Body.String(), "dial the runtime's streaming server") {
		t.Errorf("tunnel = %d %q", rec.Code, rec.Body.String())
	}
	if len(rt.forwards) != 1 {
		t.Errorf("forwards %v", rt.forwards)
	}
	// an older WebSocket protocol still needs its ports
	if rec := ws("/portForward/default/p", "v4.channel.k8s.io"); rec.Code != 400 {
		t.Errorf("websocket without ports = %d %q", rec.Code, rec.Body.String())
	}
}
