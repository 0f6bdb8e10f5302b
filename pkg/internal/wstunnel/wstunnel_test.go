package wstunnel

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	gwebsocket "github.com/gorilla/websocket"
)

func TestProtocols(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Sec-WebSocket-Protocol", "SPDY/3.1+portforward.k8s.io, v4.channel.k8s.io, SPDY/3.1+other")
	if got := Protocols(r); !reflect.DeepEqual(got, []string{"portforward.k8s.io"}) {
		t.Errorf("got %q", got)
	}
}

// TestUpgrade checks the request the backend sees and that bytes after the
// response head stay readable.
func TestUpgrade(t *testing.T) {
	t.Parallel()
	client, backend := net.Pipe()
	defer client.Close()
	seen := make(chan *http.Request, 1)
	go func() {
		defer backend.Close()
		req, err := http.ReadRequest(bufio.NewReader(backend))
		if err != nil {
			seen <- nil
			return
		}
		seen <- req
		_, _ = io.WriteString(backend, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"+
			"X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\nspdy-bytes")
	}()
	loc, _ := url.Parse("https://node:10250/portForward/ns/p")
	br, resp, err := Upgrade(client, loc, []string{"portforward.k8s.io", "x.k8s.io"})
	if err != nil {
		t.Fatal(err)
	}
	req := <-seen
	if req == nil || req.Method != "POST" || req.Host != "node:10250" || req.URL.Path != "/portForward/ns/p" ||
		req.Header.Get("Upgrade") != "SPDY/3.1" || req.Header.Get("Connection") != "Upgrade" ||
		!reflect.DeepEqual(req.Header.Values("X-Stream-Protocol-Version"), []string{"portforward.k8s.io", "x.k8s.io"}) {
		t.Fatalf("backend saw %+v", req)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rest, _ := io.ReadAll(br)
	if string(rest) != "spdy-bytes" {
		t.Fatalf("after the head: %q", rest)
	}
}

// TestAccept tunnels through an echoing backend: the client gets the
// protocol the backend chose and its bytes back, and a client that goes
// away ends the relay (the handler returns).
func TestAccept(t *testing.T) {
	t.Parallel()
	finished := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(finished)
		here, there := net.Pipe()
		go func() { _, _ = io.Copy(there, there); there.Close() }()
		resp := &http.Response{StatusCode: http.StatusSwitchingProtocols, Header: http.Header{}}
		resp.Header.Set("X-Stream-Protocol-Version", "portforward.k8s.io")
		Accept(w, r, resp, here, bufio.NewReader(here), "test")
	}))
	defer srv.Close()
	d := gwebsocket.Dialer{Subprotocols: []string{"SPDY/3.1+portforward.k8s.io"}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ws.Subprotocol(); got != "SPDY/3.1+portforward.k8s.io" {
		t.Errorf("subprotocol %q", got)
	}
	if err := ws.WriteMessage(gwebsocket.BinaryMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	var got []byte
	for len(got) < len("hello") {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, msg...)
	}
	if string(got) != "hello" {
		t.Fatalf("echo %q", got)
	}
	ws.Close()
	<-finished
}

func TestRelayEndsWhenEitherSideCloses(t *testing.T) {
	t.Parallel()
	a, aPeer := net.Pipe()
	b, bPeer := net.Pipe()
	done := make(chan struct{})
	go func() { relay(a, b, b); close(done) }()
	go func() { _, _ = io.Copy(io.Discard, bPeer) }()
	aPeer.Close()
	<-done
	if _, err := b.Write([]byte("x")); err == nil {
		t.Fatal("backend still open after the relay")
	}
}
