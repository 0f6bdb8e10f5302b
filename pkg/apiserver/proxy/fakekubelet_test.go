package proxy_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rcconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// fakeKubelet is a TLS server with the kubelet's streaming endpoints,
// speaking SPDY as the kubelet does: /exec and /attach run a few fake
// commands (remote command protocol v4), /portForward echoes what each
// port receives after a greeting, /healthz and /pods answer as the
// kubelet's; pods named "ghost" are unknown to it (404). It records the
// client certificates it sees.
type fakeKubelet struct {
	srv *httptest.Server

	mu       sync.Mutex // guards clients
	clients  []string   // CN of each request's client certificate ("" for none)
	requests []string   // method and URL of each request

	// waiting receives a channel when a "wait" command starts; the
	// channel is closed when the session's connection closes.
	waiting chan chan struct{}
}

// startFakeKubelet serves on ip (a port chosen by the kernel).
func startFakeKubelet(t *testing.T, ip string) *fakeKubelet {
	t.Helper()
	k := &fakeKubelet{waiting: make(chan chan struct{}, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("/exec/", k.serveExec)
	mux.HandleFunc("/attach/", k.serveExec)
	mux.HandleFunc("/portForward/", k.servePortForward)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/pods", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`)
	})
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	k.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/ghost") { // a pod the kubelet does not know
			http.Error(w, "pod does not exist", http.StatusNotFound)
			return
		}
		cn := ""
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		k.mu.Lock()
		k.clients = append(k.clients, cn)
		k.requests = append(k.requests, r.Method+" "+r.URL.String())
		k.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	k.srv.Listener.Close()
	k.srv.Listener = l
	k.srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	k.srv.StartTLS()
	t.Cleanup(k.srv.Close)
	return k
}

func (k *fakeKubelet) port() int32 {
	_, p, _ := net.SplitHostPort(k.srv.Listener.Addr().String())
	n, _ := strconv.Atoi(p)
	return int32(n)
}

// seen returns the client certificate names and requests so far.
func (k *fakeKubelet) seen() (clients, requests []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.clients...), append([]string(nil), k.requests...)
}

// acceptStreams upgrades r to SPDY with protocols and returns the
// connection and the streams the client opens, by streamType (or by
// streamType and requestID for port-forward), once want says all came.
func acceptStreams(w http.ResponseWriter, r *http.Request, protocols []string, want func(map[string]httpstream.Stream) bool) (httpstream.Connection, map[string]httpstream.Stream, bool) {
	if _, err := httpstream.Handshake(r, w, protocols); err != nil {
		return nil, nil, false
	}
	type arrival struct {
		s     httpstream.Stream
		reply <-chan struct{}
	}
	ch := make(chan arrival, 16)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, reply <-chan struct{}) error {
		ch <- arrival{s, reply}
		return nil
	})
	if conn == nil {
		return nil, nil, false
	}
	streams := map[string]httpstream.Stream{}
	timeout := time.After(10 * time.Second)
	for !want(streams) {
		select {
		case a := <-ch:
			<-a.reply
			streams[a.s.Headers().Get("streamType")] = a.s
		case <-timeout:
			conn.Close()
			return nil, nil, false
		}
	}
	return conn, streams, true
}

// serveExec runs a fake command: "echo args…" (stdout), "fail code msg"
// (msg on stderr, exit code), "cat" (stdin to stdout until stdin closes),
// "size" (the first terminal size, as WxH), "wait" (until the client goes
// away, see fakeKubelet.waiting); attach prints "attached" and
// copies stdin when there is one.
func (k *fakeKubelet) serveExec(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	on := func(key string) bool { return q.Get(key) == "1" }
	stdin, stdout, stderr, tty := on("input"), on("output"), on("error"), on("tty")
	if !stdin && !stdout && !stderr {
		http.Error(w, "you must specify at least 1 of stdin, stdout, stderr", http.StatusBadRequest)
		return
	}
	if tty {
		stderr = false
	}
	want := func(s map[string]httpstream.Stream) bool {
		for _, need := range []struct {
			on  bool
			typ string
		}{{true, "error"}, {stdin, "stdin"}, {stdout, "stdout"}, {stderr, "stderr"}, {tty, "resize"}} {
			if _, ok := s[need.typ]; need.on && !ok {
				return false
			}
		}
		return true
	}
	conn, streams, ok := acceptStreams(w, r, []string{rcconsts.StreamProtocolV4Name}, want)
	if !ok {
		return
	}
	defer conn.Close()
	out, errOut, in := streams["stdout"], streams["stderr"], streams["stdin"]
	command := q["command"]
	if strings.HasPrefix(r.URL.Path, "/attach/") {
		command = []string{"attach"}
	}
	code := 0
	switch {
	case len(command) == 0:
		code = 126
	case command[0] == "echo":
		fmt.Fprintln(out, strings.Join(command[1:], " "))
	case command[0] == "fail" && len(command) == 3:
		fmt.Fprintln(errOut, command[2])
		code, _ = strconv.Atoi(command[1])
	case command[0] == "cat" && in != nil:
		_, _ = io.Copy(out, in)
	case command[0] == "size" && streams["resize"] != nil:
		var size struct{ Width, Height uint16 }
		if err := json.NewDecoder(streams["resize"]).Decode(&size); err == nil {
			fmt.Fprintf(out, "%dx%d\n", size.Width, size.Height)
		}
	case command[0] == "wait":
		gone := make(chan struct{})
		k.waiting <- gone
		fmt.Fprintln(out, "waiting")
		select {
		case <-conn.CloseChan():
		case <-time.After(time.Minute):
		}
		close(gone)
		return
	case command[0] == "attach":
		fmt.Fprintln(out, "attached")
		if in != nil {
			_, _ = io.Copy(out, in)
		}
	default:
		fmt.Fprintf(out, "unknown command %q\n", command)
		code = 127
	}
	status := metav1.Status{Status: metav1.StatusSuccess}
	if code != 0 {
		status = metav1.Status{Status: metav1.StatusFailure, Reason: rcconsts.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: exit status %d", code),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: rcconsts.ExitCodeCauseType, Message: strconv.Itoa(code)}}}}
	}
	data, _ := json.Marshal(status)
	_, _ = streams["error"].Write(data)
	for _, s := range streams {
		s.Close()
	}
}

// servePortForward answers each forwarded connection with "port N\n" and
// then echoes it; port 1 is closed: its error stream reports so.
func (k *fakeKubelet) servePortForward(w http.ResponseWriter, r *http.Request) {
	if _, err := httpstream.Handshake(r, w, []string{"portforward.k8s.io"}); err != nil {
		return
	}
	streams := make(chan httpstream.Stream, 16)
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, r, func(s httpstream.Stream, reply <-chan struct{}) error {
		go func() {
			<-reply
			streams <- s
		}()
		return nil
	})
	if conn == nil {
		return
	}
	defer conn.Close()
	pending := map[string][2]httpstream.Stream{} // by requestID: error, data
	for {
		select {
		case s := <-streams:
			id := s.Headers().Get("requestID")
			pair := pending[id]
			if s.Headers().Get("streamType") == "error" {
				pair[0] = s
			} else {
				pair[1] = s
			}
			if pair[0] == nil || pair[1] == nil {
				pending[id] = pair
				continue
			}
			delete(pending, id)
			go forward(pair[0], pair[1])
		case <-conn.CloseChan():
			return
		}
	}
}

func forward(errStream, data httpstream.Stream) {
	defer errStream.Close()
	defer data.Close()
	port := data.Headers().Get("port")
	if port == "1" {
		fmt.Fprintf(errStream, "failed to connect to localhost:%s inside namespace: connection refused", port)
		return
	}
	fmt.Fprintf(data, "port %s\n", port)
	_, _ = io.Copy(data, data)
}
