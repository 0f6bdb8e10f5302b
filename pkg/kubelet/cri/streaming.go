package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Streaming is the part of the CRI RuntimeService behind the kubelet's
// exec, attach and port-forward endpoints. Each call prepares a session on
// the runtime's streaming server and returns its one-time URL (the
// response's Url); the caller then proxies the client's upgraded connection
// to it. Errors are gRPC statuses: NotFound for an unknown container or
// sandbox, FailedPrecondition (or similar) for one that is not running.
// Implementations are safe for concurrent use.
type Streaming interface {
	Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error)
	Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error)
	PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error)
}

var _ Streaming = &Client{}

func (c *Client) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	return c.runtime.Exec(ctx, req)
}

func (c *Client) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	return c.runtime.Attach(ctx, req)
}

func (c *Client) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	return c.runtime.PortForward(ctx, req)
}
