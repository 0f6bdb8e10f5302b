package kuberuntime

import (
	"context"
	"errors"
	"fmt"
	"sort"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Ephemeral containers (kubectl debug) are added to a running pod through
// pods/ephemeralcontainers. The kubelet starts each once in the pod's
// current sandbox and never restarts it: one that has a container in any of
// the pod's sandboxes, running or exited, is left alone. They have no
// probes, ports, resources or lifecycle handlers. They carry the same CRI
// labels and annotations as other containers, so that a restarted kubelet
// finds them again by name and does not start them twice.

// startEphemeralContainers starts, in sandbox sandboxID, each of pod's
// ephemeral containers that has never had a container in any of the pod's
// sandboxes. The failure of one does not
// keep the others from starting; each one's outcome is its waiting reason
// in the pod status, and the next sync retries those that have no
// container.
func (m *Manager) startEphemeralContainers(ctx context.Context, pod *v1.Pod, sandboxID string,
	sbCfg *runtimeapi.PodSandboxConfig, podIPs []string, state *PodState) error {
	var errs []error
	for i := range pod.Spec.EphemeralContainers {
		ec := &pod.Spec.EphemeralContainers[i]
		if state.Latest(ec.Name, "") != nil {
			continue // started before: never again
		}
		err := m.createAndStartEphemeral(ctx, pod, ec, sandboxID, sbCfg, podIPs, state)
		m.recordStart(pod, ec.Name, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("ephemeral container %s: %w", ec.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) createAndStartEphemeral(ctx context.Context, pod *v1.Pod, ec *v1.EphemeralContainer, sandboxID string,
	sbCfg *runtimeapi.PodSandboxConfig, podIPs []string, state *PodState) error {
	c := ephemeralContainer(ec)
	if err := m.ensureImage(ctx, pod, c, sbCfg); err != nil {
		return err
	}
	target := ""
	if name := ec.TargetContainerName; name != "" {
		// As upstream: the target's newest container, whatever its state.
		t := state.Latest(name, "")
		if t == nil {
			return configErrorf("unable to find target container %s", name)
		}
		target = t.Id
	}
	cfg, err := m.containerConfig(ctx, pod, c, 0, podIPs, false)
	if err != nil {
		return err
	}
	if target != "" {
		shareTargetPID(cfg, target)
	}
	return m.runContainer(ctx, pod, c, sandboxID, cfg, sbCfg, podIPs)
}

// shareTargetPID makes the container join the process namespace of the
// container target, unless the pod already shares one (shareProcessNamespace
// or hostPID), as upstream does.
func shareTargetPID(cfg *runtimeapi.ContainerConfig, target string) {
	ns := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions()
	if ns != nil && ns.Pid == runtimeapi.NamespaceMode_CONTAINER {
		ns.Pid = runtimeapi.NamespaceMode_TARGET
		ns.TargetId = target
	}
}

// ephemeralContainer is ec as a Container, without the fields the API
// refuses for ephemeral containers, so that none of them takes effect.
func ephemeralContainer(ec *v1.EphemeralContainer) *v1.Container {
	c := v1.Container(*ec.EphemeralContainerCommon.DeepCopy())
	c.Ports, c.Resources, c.ResizePolicy, c.RestartPolicy = nil, v1.ResourceRequirements{}, nil, nil
	c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Lifecycle = nil, nil, nil, nil
	return &c
}

// ephemeralStatuses are the status.ephemeralContainerStatuses of pod, by
// name as upstream's status manager sorts them. They are never ready and,
// as upstream, have no started field (they are not probed).
func (m *Manager) ephemeralStatuses(pod *v1.Pod, state *PodState, sbID, defaultWait string) []v1.ContainerStatus {
	var out []v1.ContainerStatus
	for i := range pod.Spec.EphemeralContainers {
		cs := m.containerStatus(pod, ephemeralContainer(&pod.Spec.EphemeralContainers[i]), state, sbID, defaultWait)
		cs.Ready, cs.Started = false, nil
		out = append(out, cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
