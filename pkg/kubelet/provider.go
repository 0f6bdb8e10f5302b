package kubelet

import (
	"context"
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/server"
)

// Pods implements server.Provider: the running pods with their statuses.
func (k *Kubelet) Pods() []*v1.Pod {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]*v1.Pod, 0, len(k.known))
	for uid, p := range k.known {
		cp := p.DeepCopy()
		cp.Status = k.statuses[uid]
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Namespace+"/"+out[i].Name < out[j].Namespace+"/"+out[j].Name
	})
	return out
}

// ContainerLog implements server.Provider from the runtime's containers.
func (k *Kubelet) ContainerLog(ctx context.Context, ns, name, container string, previous bool) (string, func() bool, error) {
	var pod *v1.Pod
	k.mu.Lock()
	for _, p := range k.known {
		if p.Namespace == ns && p.Name == name {
			pod = p
		}
	}
	k.mu.Unlock()
	if pod == nil {
		return "", nil, fmt.Errorf("pod %s/%s: %w", ns, name, server.ErrNotFound)
	}
	state, err := k.rm.GetPodState(ctx, pod.UID)
	if err != nil {
		return "", nil, err
	}
	cs := state.Latest(container, "")
	if cs != nil && previous {
		cs = state.Previous(cs)
	}
	if cs == nil {
		what := "container"
		if previous {
			what = "previous terminated container"
		}
		return "", nil, fmt.Errorf("%s %q in pod %s/%s: %w", what, container, ns, name, server.ErrNotFound)
	}
	id := cs.Id
	running := func() bool {
		s, err := k.runtime.ContainerStatus(context.Background(), id)
		return err == nil && s.State == runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	return cs.LogPath, running, nil
}

// PodByName implements server.PodLookup from the pods handed to pod workers
// (a pod being killed counts until it is gone; a live one wins over it).
func (k *Kubelet) PodByName(ns, name string) (*v1.Pod, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var found *v1.Pod
	for _, p := range k.known {
		if p.Namespace == ns && p.Name == name && (found == nil || found.DeletionTimestamp != nil) {
			found = p
		}
	}
	if found == nil {
		return nil, false
	}
	return found.DeepCopy(), true
}

// RuntimePod implements server.PodLookup from the runtime's sandboxes and
// containers of the pod.
func (k *Kubelet) RuntimePod(ctx context.Context, uid types.UID) (*server.RuntimePod, error) {
	state, err := k.rm.GetPodState(ctx, uid)
	if err != nil {
		return nil, err
	}
	rp := &server.RuntimePod{Containers: map[string]string{}}
	for _, sb := range state.Sandboxes { // newest first
		if sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			rp.SandboxID = sb.Id
			break
		}
	}
	for _, c := range state.Containers { // newest attempt first
		name := c.GetMetadata().GetName()
		if _, seen := rp.Containers[name]; !seen && c.State == runtimeapi.ContainerState_CONTAINER_RUNNING {
			rp.Containers[name] = c.Id
		}
	}
	return rp, nil
}
