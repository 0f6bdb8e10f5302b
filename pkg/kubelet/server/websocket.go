package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"
	clientspdy "k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/kinc-dev/kinc/pkg/internal/wstunnel"
)

// WebSocket clients: kubectl 1.30+ runs exec and attach over WebSocket with
// the v5.channel.k8s.io subprotocol, and 1.31+ port-forward as SPDY
// tunnelled in WebSocket messages ("SPDY/3.1+portforward.k8s.io"). A
// runtime's streaming server speaks SPDY (and older WebSocket protocols),
// so, as upstream's kubelet, we translate: v5 is served here and driven to
// the runtime with client-go's SPDY executor; the tunnel is unwrapped and
// its bytes spliced onto an SPDY upgrade to the runtime.

const (
	protocolV5     = "v5.channel.k8s.io"
	wsIdleTimeout  = 4 * time.Hour // upstream's idle limit for a WebSocket session
	statusDeadline = 10 * time.Second
)

// The v5 channels (as upstream's remotecommand).
const (
	chanStdin = iota
	chanStdout
	chanStderr
	chanError
	chanResize
)

// translateV5 serves a v5.channel.k8s.io WebSocket exec or attach and runs
// it against the runtime's SPDY session at loc. It ends when the session
// ends (the final status goes on the error channel) or when the client goes
// away (the runtime session is then closed).
func (s *streamer) translateV5(w http.ResponseWriter, r *http.Request, loc *url.URL, opts streamOptions) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	channels := []wsstream.ChannelType{
		chanStdin:  pick(opts.stdin, wsstream.ReadChannel),
		chanStdout: pick(opts.stdout, wsstream.WriteChannel),
		chanStderr: pick(opts.stderr, wsstream.WriteChannel),
		chanError:  wsstream.WriteChannel,
		chanResize: wsstream.ReadChannel,
	}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{protocolV5: {Binary: true, Channels: channels}})
	conn.SetIdleTimeout(wsIdleTimeout)
	// The WebSocket library closes the hijacked connection when the client
	// goes away: that cancels the runtime session.
	_, streams, err := conn.Open(&closeNotifyingWriter{ResponseWriter: w, closed: cancel}, r)
	if err != nil {
		return // the handshake failure is answered already
	}
	defer conn.Close()
	// Tell the client the session is up: an empty message on the lowest
	// channel it reads (as upstream).
	first := chanError
	if opts.stdout {
		first = chanStdout
	} else if opts.stderr {
		first = chanStderr
	}
	if _, err := streams[first].Write(nil); err != nil {
		return
	}
	writeStatus := func(st metav1.Status) {
		b, err := json.Marshal(st)
		if err != nil {
			return
		}
		conn.SetWriteDeadline(statusDeadline)
		_, _ = streams[chanError].Write(b)
	}
	rt, err := spdy.NewRoundTripperWithConfig(spdy.RoundTripperConfig{PingPeriod: 5 * time.Second})
	if err != nil {
		writeStatus(apierrors.NewInternalError(err).Status())
		return
	}
	ex, err := remotecommand.NewSPDYExecutorRejectRedirects(rt, clientspdy.NewUpgraderForStreaming(rt), "POST", loc)
	if err != nil {
		writeStatus(apierrors.NewInternalError(err).Status())
		return
	}
	so := remotecommand.StreamOptions{Tty: opts.tty}
	if opts.stdin {
		so.Stdin = streams[chanStdin]
	}
	if opts.stdout {
		so.Stdout = streams[chanStdout]
	}
	if opts.stderr {
		so.Stderr = streams[chanStderr]
	}
	if opts.tty {
		so.TerminalSizeQueue = newResizeQueue(ctx, streams[chanResize])
	}
	writeStatus(statusOf(ex.StreamWithContext(ctx, so)))
}

func pick(on bool, t wsstream.ChannelType) wsstream.ChannelType {
	if on {
		return t
	}
	return wsstream.IgnoreChannel
}

// statusOf is the v5 error-channel status for how a session ended:
// Success, NonZeroExitCode with the code as the ExitCode cause, or the error.
func statusOf(err error) metav1.Status {
	if err == nil {
		return metav1.Status{Status: metav1.StatusSuccess}
	}
	if se, ok := err.(apierrors.APIStatus); ok {
		return se.Status()
	}
	if ee, ok := err.(exec.CodeExitError); ok && ee.Exited() {
		return metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  "NonZeroExitCode",
			Message: fmt.Sprintf("command terminated with non-zero exit code: %v", ee),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: "ExitCode", Message: fmt.Sprint(ee.ExitStatus())}}},
		}
	}
	return apierrors.NewInternalError(err).Status()
}

// resizeQueue turns the resize channel's JSON sizes into a
// TerminalSizeQueue; it ends with the channel or ctx.
type resizeQueue struct {
	ctx   context.Context
	sizes chan remotecommand.TerminalSize
}

func newResizeQueue(ctx context.Context, r io.Reader) *resizeQueue {
	q := &resizeQueue{ctx: ctx, sizes: make(chan remotecommand.TerminalSize)}
	go func() {
		defer close(q.sizes)
		dec := json.NewDecoder(r)
		for {
			var size remotecommand.TerminalSize
			if err := dec.Decode(&size); err != nil {
				return
			}
			select {
			case q.sizes <- size:
			case <-ctx.Done():
				return
			}
		}
	}()
	return q
}

func (q *resizeQueue) Next() *remotecommand.TerminalSize {
	select {
	case size, ok := <-q.sizes:
		if !ok {
			return nil
		}
		return &size
	case <-q.ctx.Done():
		return nil
	}
}

// closeNotifyingWriter calls closed when the connection it hands out on
// Hijack is closed.
type closeNotifyingWriter struct {
	http.ResponseWriter
	closed func()
}

func (w *closeNotifyingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("response writer %T cannot hijack", w.ResponseWriter)
	}
	c, rw, err := h.Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &closeNotifyingConn{Conn: c, closed: w.closed}, rw, nil
}

type closeNotifyingConn struct {
	net.Conn
	closed func()
	once   sync.Once
}

func (c *closeNotifyingConn) Close() error {
	c.once.Do(c.closed)
	return c.Conn.Close()
}

// tunnelPortForward serves a port-forward whose SPDY session is tunnelled
// in WebSocket binary messages (wstunnel): it upgrades to the runtime with
// the tunnelled SPDY protocols, then accepts the WebSocket with the
// protocol the runtime chose and copies bytes both ways until either side
// closes. A runtime that refuses has its status and body passed on.
func (s *streamer) tunnelPortForward(w http.ResponseWriter, r *http.Request, loc *url.URL) {
	protocols := wstunnel.Protocols(r)
	if len(protocols) == 0 {
		writeText(w, http.StatusBadRequest, "unable to upgrade: no tunneling spdy protocols provided")
		return
	}
	backend, err := dialRuntime(r.Context(), loc)
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer backend.Close()
	br, resp, err := wstunnel.Upgrade(backend, loc, protocols)
	if err != nil {
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("the runtime's streaming server: %v", err))
		return
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		writeText(w, resp.StatusCode, string(body))
		return
	}
	wstunnel.Accept(w, r, resp, backend, br, "kubelet")
}

// dialRuntime connects to loc's host (port 80 or 443 by its scheme when it
// names none), with TLS for https.
func dialRuntime(ctx context.Context, loc *url.URL) (net.Conn, error) {
	host := loc.Host
	if loc.Port() == "" {
		port := "80"
		if loc.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(loc.Hostname(), port)
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	if loc.Scheme == "https" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: loc.Hostname(), MinVersion: tls.VersionTLS12}}).DialContext(ctx, "tcp", host)
	} else {
		conn, err = d.DialContext(ctx, "tcp", host)
	}
	if err != nil {
		return nil, fmt.Errorf("dial the runtime's streaming server: %w", err)
	}
	return conn, nil
}
