package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	rcconsts "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/tools/remotecommand"
	clientspdy "k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream/spdy"
	"k8s.io/streaming/pkg/httpstream/wsstream"
)

// Streams are the streams of an exec or attach session, as its options
// (PodExecOptions, PodAttachOptions) request them.
type Streams struct {
	Stdin, Stdout, Stderr, TTY bool
}

const (
	// wsIdleTimeout closes a WebSocket session without traffic for this
	// long, as the kubelet's does.
	wsIdleTimeout = 4 * time.Hour
	// statusWriteTimeout bounds writing the final status.
	statusWriteTimeout = 10 * time.Second
	// watchChannel is a channel no v5 client uses: its reader sees EOF once
	// the WebSocket is gone, which ends the SPDY session.
	watchChannel = rcconsts.StreamResize + 1
)

// IsStreamCloseWebSocket reports whether r asks for a WebSocket exec or
// attach with the v5.channel.k8s.io protocol, which Translator serves;
// other WebSocket protocols (v4 and older) are relayed to the kubelet
// unchanged, as upstream does.
func IsStreamCloseWebSocket(r *http.Request) bool {
	return wsstream.IsWebSocketRequestWithStreamCloseProtocol(r)
}

// Translator serves a v5.channel.k8s.io WebSocket exec or attach session
// as an SPDY remote command to Location (the kubelet's /exec or /attach
// URL): it answers the WebSocket upgrade itself, relays stdin (with the
// v5 close signal closing it), stdout, stderr and terminal resizes, and
// ends with the command's status on the error channel (exit codes as
// NonZeroExitCode causes). A Translator serves one request.
type Translator struct {
	Location  *url.URL
	Transport http.RoundTripper
	Streams   Streams
}

// ServeHTTP implements http.Handler.
func (t *Translator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		rcconsts.StreamProtocolV5Name: {Binary: true, Channels: t.channels()},
	})
	conn.SetIdleTimeout(wsIdleTimeout)
	_, streams, err := conn.Open(w, r)
	if err != nil {
		return // the WebSocket handshake answered the client
	}
	defer conn.Close()

	// An empty message on the first writable channel tells the client the
	// session is ready.
	first := rcconsts.StreamErr
	switch {
	case t.Streams.Stdout:
		first = rcconsts.StreamStdOut
	case t.Streams.Stderr:
		first = rcconsts.StreamStdErr
	}
	if _, err := streams[first].Write(nil); err != nil {
		return
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() { // the client went away: end the SPDY session
		_, _ = io.Copy(io.Discard, streams[watchChannel])
		cancel()
	}()

	err = t.stream(ctx, streams)
	if ctx.Err() != nil && r.Context().Err() == nil {
		return // nobody left to tell
	}
	conn.SetWriteDeadline(statusWriteTimeout)
	data, _ := json.Marshal(statusOf(err))
	_, _ = streams[rcconsts.StreamErr].Write(data)
}

// channels are the v5 channels: stdin, stdout, stderr as requested, the
// error and resize channels always, and the watch channel.
func (t *Translator) channels() []wsstream.ChannelType {
	pick := func(on bool, c wsstream.ChannelType) wsstream.ChannelType {
		if on {
			return c
		}
		return wsstream.IgnoreChannel
	}
	ch := make([]wsstream.ChannelType, watchChannel+1)
	ch[rcconsts.StreamStdIn] = pick(t.Streams.Stdin, wsstream.ReadChannel)
	ch[rcconsts.StreamStdOut] = pick(t.Streams.Stdout, wsstream.WriteChannel)
	ch[rcconsts.StreamStdErr] = pick(t.Streams.Stderr, wsstream.WriteChannel)
	ch[rcconsts.StreamErr] = wsstream.WriteChannel
	ch[rcconsts.StreamResize] = wsstream.ReadChannel
	ch[watchChannel] = wsstream.ReadChannel
	return ch
}

// stream runs the session over SPDY to the kubelet until the command ends.
func (t *Translator) stream(ctx context.Context, streams []io.ReadWriteCloser) error {
	rt, err := spdy.NewRoundTripperWithConfig(spdy.RoundTripperConfig{UpgradeTransport: t.Transport, PingPeriod: 5 * time.Second})
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	executor, err := remotecommand.NewSPDYExecutorRejectRedirects(rt, clientspdy.NewUpgraderForStreaming(rt), http.MethodPost, t.Location)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	opts := remotecommand.StreamOptions{Tty: t.Streams.TTY}
	if t.Streams.Stdin {
		opts.Stdin = streams[rcconsts.StreamStdIn]
	}
	if t.Streams.Stdout {
		opts.Stdout = streams[rcconsts.StreamStdOut]
	}
	if t.Streams.Stderr {
		opts.Stderr = streams[rcconsts.StreamStdErr]
	}
	if t.Streams.TTY {
		sizes := make(chan remotecommand.TerminalSize)
		go decodeResizes(ctx, streams[rcconsts.StreamResize], sizes)
		opts.TerminalSizeQueue = sizeQueue(sizes)
	}
	return executor.StreamWithContext(ctx, opts)
}

// statusOf is the status the error channel reports for the session's
// result: Success, the exit code of a command that failed, the kubelet's
// own Status, or an internal error.
func statusOf(err error) metav1.Status {
	if err == nil {
		return metav1.Status{Status: metav1.StatusSuccess}
	}
	var exit utilexec.CodeExitError
	if errors.As(err, &exit) && exit.Exited() {
		return metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  rcconsts.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: %v", exit),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{
				{Type: rcconsts.ExitCodeCauseType, Message: fmt.Sprint(exit.ExitStatus())},
			}},
		}
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status()
	}
	return apierrors.NewInternalError(err).ErrStatus
}

// decodeResizes reads the JSON terminal sizes of the resize channel into
// sizes until the channel or ctx ends, then closes sizes.
func decodeResizes(ctx context.Context, r io.Reader, sizes chan<- remotecommand.TerminalSize) {
	defer close(sizes)
	dec := json.NewDecoder(r)
	for {
		var size remotecommand.TerminalSize
		if err := dec.Decode(&size); err != nil {
			return
		}
		select {
		case sizes <- size:
		case <-ctx.Done():
			return
		}
	}
}

// sizeQueue is a remotecommand.TerminalSizeQueue over a channel.
type sizeQueue <-chan remotecommand.TerminalSize

func (q sizeQueue) Next() *remotecommand.TerminalSize {
	size, ok := <-q
	if !ok {
		return nil
	}
	return &size
}
