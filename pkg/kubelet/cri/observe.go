package cri

import (
	"context"
	"strings"
	"time"
	"unicode"

	"google.golang.org/grpc"
)

// Observer is told about every CRI call a Client makes: the operation's
// name as upstream's kubelet labels it (operation_type "list_containers",
// "run_podsandbox"…), how long it took and its error (nil on success).
// It must be safe for concurrent use and return quickly.
type Observer func(operation string, took time.Duration, err error)

// Option configures Dial.
type Option func(*dialOptions)

type dialOptions struct {
	observer Observer
}

// WithObserver reports every unary CRI call of the client to o (streaming
// sessions are reported when they are prepared: "exec", "attach",
// "port_forward").
func WithObserver(o Observer) Option {
	return func(d *dialOptions) { d.observer = o }
}

func observeInterceptor(o Observer) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		o(OperationName(method), time.Since(start), err)
		return err
	}
}

// OperationName turns a CRI method ("/runtime.v1.RuntimeService/PodSandboxStatus"
// or "PodSandboxStatus") into upstream's operation_type label
// ("podsandbox_status"): snake case, with "pod_sandbox" as one word.
func OperationName(method string) string {
	if i := strings.LastIndexByte(method, '/'); i >= 0 {
		method = method[i+1:]
	}
	var b strings.Builder
	for i, r := range method {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return strings.ReplaceAll(b.String(), "pod_sandbox", "podsandbox")
}
