// Package cri is the kubelet's view of a container runtime: a small Runtime
// interface over the CRI gRPC API (k8s.io/cri-api runtime/v1), a client that
// speaks it over a unix socket, and an in-memory Fake for unit tests.
package cri

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Runtime is the subset of the CRI RuntimeService and ImageService the
// kubelet uses. Implementations are safe for concurrent use.
//
// Errors: an object that does not exist is reported with a gRPC NotFound
// status (test with IsNotFound); Stop and Remove calls are idempotent and
// return nil for objects that are already stopped or gone.
type Runtime interface {
	// Version returns the runtime's name and version (e.g. "containerd", "1.6.20").
	Version(ctx context.Context) (*runtimeapi.VersionResponse, error)
	// Status returns the runtime's conditions (RuntimeReady, NetworkReady).
	Status(ctx context.Context) (*runtimeapi.RuntimeStatus, error)

	// RunPodSandbox creates and starts a sandbox and returns its id.
	RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig) (string, error)
	// StopPodSandbox stops every container in the sandbox and the sandbox.
	StopPodSandbox(ctx context.Context, id string) error
	// RemovePodSandbox removes a sandbox and its containers (stopping them first).
	RemovePodSandbox(ctx context.Context, id string) error
	// PodSandboxStatus returns a sandbox's status including its network IPs.
	PodSandboxStatus(ctx context.Context, id string) (*runtimeapi.PodSandboxStatus, error)
	// ListPodSandbox lists sandboxes matching filter (nil: all).
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)

	// CreateContainer creates a container in a sandbox and returns its id.
	CreateContainer(ctx context.Context, sandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
	// StartContainer starts a created container.
	StartContainer(ctx context.Context, id string) error
	// StopContainer stops a running container, killing it after timeout seconds.
	StopContainer(ctx context.Context, id string, timeout int64) error
	// RemoveContainer removes a container (stopping it first if needed).
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers lists containers matching filter (nil: all).
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	// ContainerStatus returns a container's detailed status, including its log path.
	ContainerStatus(ctx context.Context, id string) (*runtimeapi.ContainerStatus, error)
	// ExecSync runs cmd in a running container and waits for it (at most
	// timeout seconds; 0: no limit). A non-zero exit is not an error: it is
	// in the response with the output.
	ExecSync(ctx context.Context, id string, cmd []string, timeout int64) (*runtimeapi.ExecSyncResponse, error)

	// ImageStatus returns the image, or nil (and no error) when it is not present.
	ImageStatus(ctx context.Context, image *runtimeapi.ImageSpec) (*runtimeapi.Image, error)
	// PullImage pulls an image and returns its reference (id or digest).
	PullImage(ctx context.Context, image *runtimeapi.ImageSpec, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
}

// IsNotFound reports whether err says a runtime object does not exist.
func IsNotFound(err error) bool {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus().Code() == codes.NotFound
	}
	return false
}

// NotFound returns a NotFound error about kind id, as a runtime would.
func NotFound(kind, id string) error {
	return status.Errorf(codes.NotFound, "%s %q not found", kind, id)
}
