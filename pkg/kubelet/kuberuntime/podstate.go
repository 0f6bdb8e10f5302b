package kuberuntime

import (
	"context"
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodState is what the runtime holds for one pod, newest first.
type PodState struct {
	Sandboxes  []*runtimeapi.PodSandboxStatus
	Containers []*runtimeapi.ContainerStatus
}

// GetPodState reads a pod's sandboxes and containers from the runtime by
// their io.kubernetes.pod.uid label.
func (m *Manager) GetPodState(ctx context.Context, uid types.UID) (*PodState, error) {
	sel := map[string]string{LabelPodUID: string(uid)}
	sbs, err := m.runtime.ListPodSandbox(ctx, &runtimeapi.PodSandboxFilter{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list sandboxes: %w", err)
	}
	st := &PodState{}
	for _, sb := range sbs {
		s, err := m.runtime.PodSandboxStatus(ctx, sb.Id)
		if err != nil {
			continue // removed meanwhile
		}
		st.Sandboxes = append(st.Sandboxes, s)
	}
	cs, err := m.runtime.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: sel})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range cs {
		s, err := m.runtime.ContainerStatus(ctx, c.Id)
		if err != nil {
			continue
		}
		if s.Labels == nil {
			s.Labels = c.Labels
		}
		st.Containers = append(st.Containers, withSandbox(s, c.PodSandboxId))
	}
	sort.SliceStable(st.Sandboxes, func(i, j int) bool {
		a, b := st.Sandboxes[i], st.Sandboxes[j]
		if a.CreatedAt != b.CreatedAt {
			return a.CreatedAt > b.CreatedAt
		}
		return a.GetMetadata().GetAttempt() > b.GetMetadata().GetAttempt()
	})
	sort.SliceStable(st.Containers, func(i, j int) bool {
		a, b := restartCountOf(st.Containers[i]), restartCountOf(st.Containers[j])
		if a != b {
			return a > b
		}
		return st.Containers[i].CreatedAt > st.Containers[j].CreatedAt
	})
	return st, nil
}

// sandboxLabel carries a container's sandbox id inside PodState (the CRI
// ContainerStatus has no sandbox field).
const sandboxLabel = "io.kinc.sandbox-id"

func withSandbox(s *runtimeapi.ContainerStatus, sandboxID string) *runtimeapi.ContainerStatus {
	labels := map[string]string{sandboxLabel: sandboxID}
	for k, v := range s.Labels {
		labels[k] = v
	}
	s.Labels = labels
	return s
}

// Newest returns the newest sandbox, or nil.
func (s *PodState) Newest() *runtimeapi.PodSandboxStatus {
	if len(s.Sandboxes) == 0 {
		return nil
	}
	return s.Sandboxes[0]
}

// Latest returns the newest container named name, in sandbox sandboxID
// when that is not empty.
func (s *PodState) Latest(name, sandboxID string) *runtimeapi.ContainerStatus {
	for _, c := range s.Containers {
		if c.GetMetadata().GetName() == name && (sandboxID == "" || c.Labels[sandboxLabel] == sandboxID) {
			return c
		}
	}
	return nil
}

// Previous returns the container attempt before latest, or nil.
func (s *PodState) Previous(latest *runtimeapi.ContainerStatus) *runtimeapi.ContainerStatus {
	seen := false
	for _, c := range s.Containers {
		if c.GetMetadata().GetName() != latest.GetMetadata().GetName() {
			continue
		}
		if seen {
			return c
		}
		seen = c.Id == latest.Id
	}
	return nil
}

func (s *PodState) nextRestartCount(name string) int {
	if c := s.Latest(name, ""); c != nil {
		return restartCountOf(c) + 1
	}
	return 0
}

func sandboxIPs(sb *runtimeapi.PodSandboxStatus) []string {
	var ips []string
	if ip := sb.GetNetwork().GetIp(); ip != "" {
		ips = append(ips, ip)
	}
	for _, a := range sb.GetNetwork().GetAdditionalIps() {
		ips = append(ips, a.GetIp())
	}
	return ips
}

func running(c *runtimeapi.ContainerStatus) bool {
	return c != nil && c.State == runtimeapi.ContainerState_CONTAINER_RUNNING
}

func exited(c *runtimeapi.ContainerStatus) bool {
	return c != nil && c.State == runtimeapi.ContainerState_CONTAINER_EXITED
}

// PodIPs are the pod's IPs in state: the node's for host-network pods,
// else the newest sandbox's.
func (m *Manager) PodIPs(pod *v1.Pod, state *PodState) []string {
	if pod.Spec.HostNetwork {
		return m.cfg.NodeIPs()
	}
	if sb := state.Newest(); sb != nil {
		return sandboxIPs(sb)
	}
	return nil
}
