package proxy

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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	pfconsts "k8s.io/apimachinery/pkg/util/portforward"
	utilproxy "k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
)

// backendResponseTimeout bounds waiting for the kubelet's answer to the
// SPDY upgrade.
const backendResponseTimeout = 30 * time.Second

// IsTunnelingWebSocket reports whether r asks for a port-forward with SPDY
// tunnelled in WebSocket messages (subprotocol SPDY/3.1+portforward.k8s.io,
// kubectl 1.31 and later), which Tunnel serves.
func IsTunnelingWebSocket(r *http.Request) bool {
	return wsstream.IsWebSocketRequestWithTunnelingProtocol(r)
}

// Tunnel serves a port-forward whose SPDY frames the client tunnels in
// WebSocket binary messages: it upgrades the kubelet's /portForward URL
// (Location) to SPDY/3.1 with the SPDY protocols the WebSocket
// subprotocols name, then answers the WebSocket upgrade with the protocol
// the kubelet chose and relays the SPDY bytes both ways. A kubelet that
// refuses the upgrade has its response passed to the client as it is. A
// Tunnel serves one request.
type Tunnel struct {
	Location  *url.URL
	Transport http.RoundTripper
}

// ServeHTTP implements http.Handler.
func (t *Tunnel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	protocols := tunnelledProtocols(r)
	if len(protocols) == 0 {
		http.Error(w, "unable to upgrade: no tunneling spdy protocols provided", http.StatusBadRequest)
		return
	}
	backend, err := utilproxy.DialURL(r.Context(), t.Location, t.Transport)
	if err != nil {
		handlers.WriteError(w, r, fmt.Errorf("error dialing backend: %w", err))
		return
	}
	defer backend.Close()

	up := &http.Request{Method: http.MethodPost, URL: t.Location, Host: t.Location.Host, Header: http.Header{},
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	up.Header.Set(httpstream.HeaderConnection, httpstream.HeaderUpgrade)
	up.Header.Set(httpstream.HeaderUpgrade, spdy.HeaderSpdy31)
	for _, p := range protocols {
		up.Header.Add(httpstream.HeaderProtocolVersion, p)
	}
	_ = backend.SetDeadline(time.Now().Add(backendResponseTimeout))
	if err := up.Write(backend); err != nil {
		handlers.WriteError(w, r, fmt.Errorf("error sending request: %w", err))
		return
	}
	br := bufio.NewReader(backend)
	resp, err := http.ReadResponse(br, up)
	if err != nil {
		handlers.WriteError(w, r, fmt.Errorf("error reading the kubelet's upgrade response: %w", err))
		return
	}
	_ = backend.SetDeadline(time.Time{})
	if resp.StatusCode != http.StatusSwitchingProtocols {
		passResponse(w, resp)
		return
	}
	if !strings.Contains(strings.ToLower(resp.Header.Get(httpstream.HeaderUpgrade)), strings.ToLower(spdy.HeaderSpdy31)) {
		handlers.WriteError(w, r, apierrors.NewInternalError(fmt.Errorf("unable to upgrade: missing upgrade headers in response")))
		return
	}
	var subprotocols []string
	if chosen := strings.TrimSpace(resp.Header.Get(httpstream.HeaderProtocolVersion)); chosen != "" {
		subprotocols = []string{pfconsts.WebsocketsSPDYTunnelingPrefix + chosen}
	}
	upgrader := gwebsocket.Upgrader{Subprotocols: subprotocols, CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	client := portforward.NewTunnelingConnection("apiserver", ws)
	defer client.Close()
	relay(client, backend, br)
}

// tunnelledProtocols are the SPDY protocols of r's tunnelling WebSocket
// subprotocols (SPDY/3.1+portforward.k8s.io → portforward.k8s.io).
func tunnelledProtocols(r *http.Request) []string {
	var out []string
	for _, p := range gwebsocket.Subprotocols(r) {
		if strings.HasPrefix(p, pfconsts.WebsocketsSPDYTunnelingPrefix) && strings.HasSuffix(p, pfconsts.KubernetesSuffix) {
			out = append(out, strings.TrimPrefix(p, pfconsts.WebsocketsSPDYTunnelingPrefix))
		}
	}
	return out
}

// passResponse answers the client with the kubelet's refusal.
func passResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	for _, h := range []string{"Content-Type", "X-Content-Type-Options"} {
		if v := resp.Header.Get(h); v != "" {
			w.Header().Set(h, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

// relay copies between the client and the backend (whose first bytes may
// wait in br) until either side ends, then closes both and returns once
// both copies have stopped.
func relay(client net.Conn, backend net.Conn, br *bufio.Reader) {
	var once sync.Once
	done := make(chan struct{}, 2)
	closeBoth := func() {
		once.Do(func() {
			_ = client.Close()
			_ = backend.Close()
		})
	}
	go func() {
		_, _ = io.Copy(backend, client)
		closeBoth()
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(client, br)
		closeBoth()
		done <- struct{}{}
	}()
	<-done
	<-done
}
