package cri

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Fake is an in-memory Runtime for unit tests. Containers stay running once
// started until the test calls Exit (or the container's name is in
// ExitOnStart); images are present when listed in Images or pulled
// successfully. Every call is recorded in Calls. Safe for concurrent use.
type Fake struct {
	mu sync.Mutex // guards everything below

	// Now is the clock used for timestamps (time.Now when nil).
	Now func() time.Time
	// Images holds the present images by reference.
	Images map[string]*runtimeapi.Image
	// PullErrors makes PullImage of an image fail with the error.
	PullErrors map[string]error
	// ExitOnStart makes containers with this name exit with the code as soon as they start.
	ExitOnStart map[string]int32
	// NetworkNotReady, when set, is the reason of a false NetworkReady condition.
	NetworkNotReady string
	// Exec answers ExecSync (nil: exit code 0, no output).
	Exec func(id string, cmd []string) *runtimeapi.ExecSyncResponse
	// Calls records the method names called, in order.
	Calls []string
	// ImageFs answers ImageFsInfo (nil: no filesystems).
	ImageFs *runtimeapi.ImageFsInfoResponse

	usage map[string]*runtimeapi.ContainerStats // container id → what SetUsage set

	nextID     int
	sandboxes  map[string]*fakeSandbox
	containers map[string]*runtimeapi.ContainerStatus
	sandboxOf  map[string]string // container id → sandbox id
	configs    map[string]*runtimeapi.ContainerConfig
}

type fakeSandbox struct {
	status *runtimeapi.PodSandboxStatus
	config *runtimeapi.PodSandboxConfig
}

var _ Runtime = &Fake{}

// NewFake returns an empty Fake holding the given images.
func NewFake(images ...string) *Fake {
	f := &Fake{Images: map[string]*runtimeapi.Image{}, PullErrors: map[string]error{}, ExitOnStart: map[string]int32{},
		sandboxes: map[string]*fakeSandbox{}, containers: map[string]*runtimeapi.ContainerStatus{}, sandboxOf: map[string]string{}, configs: map[string]*runtimeapi.ContainerConfig{}}
	for _, img := range images {
		f.Images[img] = &runtimeapi.Image{Id: "sha256:" + img, RepoTags: []string{img}}
	}
	return f
}

func (f *Fake) now() int64 {
	if f.Now != nil {
		return f.Now().UnixNano()
	}
	return time.Now().UnixNano()
}

func (f *Fake) record(call string) { f.Calls = append(f.Calls, call) }

// CallsSnapshot returns a copy of Calls.
func (f *Fake) CallsSnapshot() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Calls...)
}

// Exit makes a running container exit with code.
func (f *Fake) Exit(id string, code int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.containers[id]; ok && c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
		c.State, c.ExitCode, c.FinishedAt = runtimeapi.ContainerState_CONTAINER_EXITED, code, f.now()
		c.Reason = "Completed"
		if code != 0 {
			c.Reason = "Error"
		}
	}
}

func (f *Fake) Version(context.Context) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: "fake", RuntimeVersion: "1.0.0", RuntimeApiVersion: "v1"}, nil
}

func (f *Fake) Status(context.Context) (*runtimeapi.RuntimeStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	net := &runtimeapi.RuntimeCondition{Type: runtimeapi.NetworkReady, Status: f.NetworkNotReady == ""}
	if !net.Status {
		net.Reason, net.Message = "NetworkPluginNotReady", f.NetworkNotReady
	}
	return &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{{Type: runtimeapi.RuntimeReady, Status: true}, net}}, nil
}

// SetNetworkNotReady sets NetworkNotReady safely while the fake is in use.
// Reboot makes every sandbox not ready and every container exit, as a
// restart of the node does.
func (f *Fake) Reboot() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.containers {
		f.stopLocked(id)
	}
	for _, s := range f.sandboxes {
		s.status.State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
		s.status.Network = &runtimeapi.PodSandboxNetworkStatus{}
	}
}

func (f *Fake) SetNetworkNotReady(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.NetworkNotReady = reason
}

func (f *Fake) RunPodSandbox(_ context.Context, config *runtimeapi.PodSandboxConfig) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RunPodSandbox")
	// containerd reserves <name>_<namespace>_<uid>_<attempt> while a
	// sandbox holds it, stopped or not.
	md := config.GetMetadata()
	name := fmt.Sprintf("%s_%s_%s_%d", md.GetName(), md.GetNamespace(), md.GetUid(), md.GetAttempt())
	for id, sb := range f.sandboxes {
		m := sb.config.GetMetadata()
		if fmt.Sprintf("%s_%s_%s_%d", m.GetName(), m.GetNamespace(), m.GetUid(), m.GetAttempt()) == name {
			return "", fmt.Errorf("failed to reserve sandbox name %q: name %q is reserved for %q", name, name, id)
		}
	}
	f.nextID++
	id := fmt.Sprintf("sandbox-%d", f.nextID)
	ip := fmt.Sprintf("10.244.0.%d", f.nextID%250+2)
	if config.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE {
		ip = ""
	}
	f.sandboxes[id] = &fakeSandbox{config: config, status: &runtimeapi.PodSandboxStatus{
		Id: id, Metadata: config.Metadata, State: runtimeapi.PodSandboxState_SANDBOX_READY, CreatedAt: f.now(),
		Network: &runtimeapi.PodSandboxNetworkStatus{Ip: ip}, Labels: config.Labels, Annotations: config.Annotations}}
	return id, nil
}

func (f *Fake) StopPodSandbox(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StopPodSandbox")
	s, ok := f.sandboxes[id]
	if !ok {
		return nil
	}
	for cid, sid := range f.sandboxOf {
		if sid == id {
			f.stopLocked(cid)
		}
	}
	s.status.State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	s.status.Network = &runtimeapi.PodSandboxNetworkStatus{} // torn down, as containerd reports it
	return nil
}

func (f *Fake) RemovePodSandbox(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemovePodSandbox")
	for cid, sid := range f.sandboxOf {
		if sid == id {
			delete(f.containers, cid)
			delete(f.sandboxOf, cid)
		}
	}
	delete(f.sandboxes, id)
	return nil
}

func (f *Fake) PodSandboxStatus(_ context.Context, id string) (*runtimeapi.PodSandboxStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sandboxes[id]
	if !ok {
		return nil, NotFound("sandbox", id)
	}
	return proto.Clone(s.status).(*runtimeapi.PodSandboxStatus), nil
}

func (f *Fake) ListPodSandbox(_ context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*runtimeapi.PodSandbox
	for id, s := range f.sandboxes {
		st := s.status
		if filter != nil && ((filter.Id != "" && filter.Id != id) ||
			(filter.State != nil && filter.State.State != st.State) || !matches(filter.LabelSelector, st.Labels)) {
			continue
		}
		out = append(out, &runtimeapi.PodSandbox{Id: id, Metadata: st.Metadata, State: st.State, CreatedAt: st.CreatedAt,
			Labels: st.Labels, Annotations: st.Annotations})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].CreatedAt < out[j].CreatedAt || (out[i].CreatedAt == out[j].CreatedAt && out[i].Id < out[j].Id)
	})
	return out, nil
}

func (f *Fake) CreateContainer(_ context.Context, sandboxID string, config *runtimeapi.ContainerConfig, _ *runtimeapi.PodSandboxConfig) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("CreateContainer")
	s, ok := f.sandboxes[sandboxID]
	if !ok {
		return "", NotFound("sandbox", sandboxID)
	}
	if _, ok := f.Images[config.GetImage().GetImage()]; !ok {
		return "", fmt.Errorf("image %q not present", config.GetImage().GetImage())
	}
	f.nextID++
	id := fmt.Sprintf("container-%d", f.nextID)
	f.containers[id] = &runtimeapi.ContainerStatus{Id: id, Metadata: config.Metadata, State: runtimeapi.ContainerState_CONTAINER_CREATED,
		CreatedAt: f.now(), Image: config.Image, ImageRef: "sha256:" + config.Image.Image, Labels: config.Labels,
		Annotations: config.Annotations, LogPath: filepath.Join(s.config.LogDirectory, config.LogPath)}
	f.sandboxOf[id] = sandboxID
	f.configs[id] = config
	return id, nil
}

func (f *Fake) StartContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StartContainer")
	c, ok := f.containers[id]
	if !ok {
		return NotFound("container", id)
	}
	c.State, c.StartedAt = runtimeapi.ContainerState_CONTAINER_RUNNING, f.now()
	if code, ok := f.ExitOnStart[c.Metadata.Name]; ok {
		c.State, c.ExitCode, c.FinishedAt, c.Reason = runtimeapi.ContainerState_CONTAINER_EXITED, code, f.now(), "Error"
		if code == 0 {
			c.Reason = "Completed"
		}
	}
	return nil
}

func (f *Fake) StopContainer(_ context.Context, id string, _ int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StopContainer")
	f.stopLocked(id)
	return nil
}

func (f *Fake) stopLocked(id string) {
	if c, ok := f.containers[id]; ok && c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
		c.State, c.ExitCode, c.FinishedAt, c.Reason = runtimeapi.ContainerState_CONTAINER_EXITED, 137, f.now(), "Error"
	}
}

func (f *Fake) RemoveContainer(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveContainer")
	delete(f.containers, id)
	delete(f.sandboxOf, id)
	return nil
}

func (f *Fake) ListContainers(_ context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*runtimeapi.Container
	for id, c := range f.containers {
		if filter != nil && ((filter.Id != "" && filter.Id != id) || (filter.PodSandboxId != "" && filter.PodSandboxId != f.sandboxOf[id]) ||
			(filter.State != nil && filter.State.State != c.State) || !matches(filter.LabelSelector, c.Labels)) {
			continue
		}
		out = append(out, &runtimeapi.Container{Id: id, PodSandboxId: f.sandboxOf[id], Metadata: c.Metadata, Image: c.Image,
			ImageRef: c.ImageRef, State: c.State, CreatedAt: c.CreatedAt, Labels: c.Labels, Annotations: c.Annotations})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].CreatedAt < out[j].CreatedAt || (out[i].CreatedAt == out[j].CreatedAt && out[i].Id < out[j].Id)
	})
	return out, nil
}

func (f *Fake) ContainerStatus(_ context.Context, id string) (*runtimeapi.ContainerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.containers[id]
	if !ok {
		return nil, NotFound("container", id)
	}
	return proto.Clone(c).(*runtimeapi.ContainerStatus), nil
}

func (f *Fake) ExecSync(_ context.Context, id string, cmd []string, _ int64) (*runtimeapi.ExecSyncResponse, error) {
	f.mu.Lock()
	c, ok := f.containers[id]
	exec := f.Exec
	f.mu.Unlock()
	if !ok || c.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil, NotFound("running container", id)
	}
	if exec == nil {
		return &runtimeapi.ExecSyncResponse{}, nil
	}
	return exec(id, cmd), nil
}

func (f *Fake) ImageStatus(_ context.Context, image *runtimeapi.ImageSpec) (*runtimeapi.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Images[image.GetImage()], nil
}

func (f *Fake) PullImage(_ context.Context, image *runtimeapi.ImageSpec, _ *runtimeapi.PodSandboxConfig) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("PullImage")
	if err := f.PullErrors[image.GetImage()]; err != nil {
		return "", err
	}
	img := &runtimeapi.Image{Id: "sha256:" + image.GetImage(), RepoTags: []string{image.GetImage()}}
	f.Images[image.GetImage()] = img
	return img.Id, nil
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// SandboxConfig returns the config a sandbox was created with (nil if unknown).
func (f *Fake) SandboxConfig(id string) *runtimeapi.PodSandboxConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sandboxes[id]; ok {
		return s.config
	}
	return nil
}

// ContainerConfig returns the config a container was created with (nil if unknown).
func (f *Fake) ContainerConfig(id string) *runtimeapi.ContainerConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.configs[id]
}
