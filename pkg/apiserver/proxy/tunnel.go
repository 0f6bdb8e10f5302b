package proxy

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilproxy "k8s.io/apimachinery/pkg/util/proxy"
	"k8s.io/streaming/pkg/httpstream"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/internal/wstunnel"
)

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
	protocols := wstunnel.Protocols(r)
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
	br, resp, err := wstunnel.Upgrade(backend, t.Location, protocols)
	if err != nil {
		handlers.WriteError(w, r, fmt.Errorf("kubelet: %w", err))
		return
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		passResponse(w, resp)
		return
	}
	if !strings.Contains(strings.ToLower(resp.Header.Get(httpstream.HeaderUpgrade)), strings.ToLower(spdy.HeaderSpdy31)) {
		handlers.WriteError(w, r, apierrors.NewInternalError(fmt.Errorf("unable to upgrade: missing upgrade headers in response")))
		return
	}
	wstunnel.Accept(w, r, resp, backend, br, "apiserver")
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
