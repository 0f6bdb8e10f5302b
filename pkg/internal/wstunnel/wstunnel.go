// Package wstunnel serves port-forwards whose SPDY session the client
// tunnels in WebSocket binary messages (subprotocol
// SPDY/3.1+portforward.k8s.io, kubectl 1.31 and later) to a backend that
// speaks SPDY only: the apiserver's to the kubelet, the kubelet's to the
// runtime's streaming server. The caller dials the backend and answers its
// errors; Upgrade asks the backend for SPDY/3.1 with the tunnelled
// protocols, and Accept, once the backend agreed, answers the WebSocket
// upgrade with the protocol it chose and relays the bytes both ways.
package wstunnel

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gwebsocket "github.com/gorilla/websocket"
	pfconsts "k8s.io/apimachinery/pkg/util/portforward"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
)

// responseTimeout bounds sending the upgrade request and waiting for the
// backend's answer.
const responseTimeout = 30 * time.Second

// Protocols returns the SPDY protocols r's tunnelling WebSocket
// subprotocols name (SPDY/3.1+portforward.k8s.io → portforward.k8s.io), in
// the client's order; none means r is not a tunnelled port-forward.
func Protocols(r *http.Request) []string {
	var out []string
	for _, p := range gwebsocket.Subprotocols(r) {
		if strings.HasPrefix(p, pfconsts.WebsocketsSPDYTunnelingPrefix) && strings.HasSuffix(p, pfconsts.KubernetesSuffix) {
			out = append(out, strings.TrimPrefix(p, pfconsts.WebsocketsSPDYTunnelingPrefix))
		}
	}
	return out
}

// Upgrade sends backend, a connection to loc's host, a POST of loc asking
// for an upgrade to SPDY/3.1 with protocols, and reads the answer's head
// (within 30 seconds). It returns a reader of backend positioned after the
// head (the SPDY bytes that follow may already be buffered in it) and the
// response, whose status the caller checks: anything but 101 is a refusal,
// its body still to be read from the response. It does not close backend.
func Upgrade(backend net.Conn, loc *url.URL, protocols []string) (*bufio.Reader, *http.Response, error) {
	req := &http.Request{Method: http.MethodPost, URL: loc, Host: loc.Host, Header: http.Header{},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	req.Header.Set(httpstream.HeaderConnection, httpstream.HeaderUpgrade)
	req.Header.Set(httpstream.HeaderUpgrade, spdy.HeaderSpdy31)
	for _, p := range protocols {
		req.Header.Add(httpstream.HeaderProtocolVersion, p)
	}
	_ = backend.SetDeadline(time.Now().Add(responseTimeout))
	if err := req.Write(backend); err != nil {
		return nil, nil, fmt.Errorf("send the SPDY upgrade request: %w", err)
	}
	br := bufio.NewReader(backend)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return nil, nil, fmt.Errorf("read the SPDY upgrade response: %w", err)
	}
	_ = backend.SetDeadline(time.Time{})
	return br, resp, nil
}

// Accept answers the client's WebSocket upgrade (w, r) with the tunnelled
// protocol the backend chose in resp (its 101 answer to Upgrade), then
// relays between the tunnel and backend (read through br) until either
// side ends, closes both and returns once both directions have stopped.
// name names this end of the tunnel in the tunnelling connection's logs.
// When the WebSocket upgrade fails the upgrader has answered the client and
// Accept returns at once.
func Accept(w http.ResponseWriter, r *http.Request, resp *http.Response, backend net.Conn, br *bufio.Reader, name string) {
	var chosen []string
	if p := strings.TrimSpace(resp.Header.Get(httpstream.HeaderProtocolVersion)); p != "" {
		chosen = []string{pfconsts.WebsocketsSPDYTunnelingPrefix + p}
	}
	upgrader := gwebsocket.Upgrader{Subprotocols: chosen, CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	client := portforward.NewTunnelingConnection(name, ws)
	defer client.Close()
	relay(client, backend, br)
}

// relay copies client→backend and fromBackend→client until either
// direction ends, then closes both so the other copy ends too, and waits
// for it.
func relay(client, backend net.Conn, fromBackend io.Reader) {
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			_ = client.Close()
			_ = backend.Close()
		})
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = io.Copy(backend, client); closeBoth() }()
	go func() { defer wg.Done(); _, _ = io.Copy(client, fromBackend); closeBoth() }()
	wg.Wait()
}
