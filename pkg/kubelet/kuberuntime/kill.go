package kuberuntime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// gracePeriod is the seconds a stop may take: override, the pod's deletion
// grace period, its spec, else 30.
func gracePeriod(pod *v1.Pod, override *int64) int64 {
	switch {
	case override != nil:
		return *override
	case pod.DeletionGracePeriodSeconds != nil:
		return *pod.DeletionGracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return v1.DefaultTerminationGracePeriodSeconds
}

// KillPod stops every container of the pod in parallel within the grace
// period (running its preStop handler first, inside that period), stops
// the sandboxes, then removes containers, sandboxes, the pod's
// volumes directory and its logs.
func (m *Manager) KillPod(ctx context.Context, pod *v1.Pod, override *int64) error {
	state, err := m.GetPodState(ctx, pod.UID)
	if err != nil {
		return err
	}
	grace := gracePeriod(pod, override)
	podIPs := m.PodIPs(pod, state)
	var wg sync.WaitGroup
	errc := make(chan error, len(state.Containers))
	for _, c := range state.Containers {
		if !running(c) {
			continue
		}
		m.event(pod, v1.EventTypeNormal, "Killing", "Stopping container %s", c.GetMetadata().GetName())
		wg.Add(1)
		go func(c *runtimeapi.ContainerStatus) {
			defer wg.Done()
			errc <- m.runtime.StopContainer(ctx, c.Id, m.runPreStop(ctx, pod, c, podIPs, grace))
		}(c)
	}
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, sb := range state.Sandboxes {
		errs = append(errs, m.runtime.StopPodSandbox(ctx, sb.Id))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kill pod %s: %w", podFullName(pod), err)
	}
	return m.RemovePod(ctx, pod, state)
}

// RemovePod removes a stopped pod's containers, sandboxes, directory and logs.
func (m *Manager) RemovePod(ctx context.Context, pod *v1.Pod, state *PodState) error {
	var errs []error
	for _, c := range state.Containers {
		errs = append(errs, m.runtime.RemoveContainer(ctx, c.Id))
	}
	for _, sb := range state.Sandboxes {
		errs = append(errs, m.runtime.RemovePodSandbox(ctx, sb.Id))
	}
	err := errors.Join(errs...)
	if err == nil {
		m.removePodCgroups(string(pod.UID))
	}
	if pod.Name != "" {
		_ = os.RemoveAll(m.PodDir(pod))
		_ = os.RemoveAll(PodLogDir(m.cfg.PodLogsDir, pod))
	}
	m.Forget(pod.UID)
	return err
}

// minStopGrace is what a container gets to stop after its preStop hook,
// however long the hook took (upstream's minimumGracePeriodInSeconds).
const minStopGrace = 2

// runPreStop runs the container's preStop handler within grace seconds and
// returns the grace left for stopping it.
func (m *Manager) runPreStop(ctx context.Context, pod *v1.Pod, cs *runtimeapi.ContainerStatus, podIPs []string, grace int64) int64 {
	var spec *v1.Container
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == cs.GetMetadata().GetName() {
			spec = &pod.Spec.Containers[i]
		}
	}
	if spec == nil || spec.Lifecycle == nil || spec.Lifecycle.PreStop == nil || m.hooks == nil || grace <= 0 {
		return grace
	}
	start := m.clock.Now()
	hctx, cancel := context.WithTimeout(ctx, time.Duration(grace)*time.Second)
	defer cancel()
	if err := m.hooks.RunHook(hctx, pod, spec, cs.Id, podIPs, spec.Lifecycle.PreStop); err != nil {
		m.event(pod, v1.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed: %v", err)
	}
	return max(grace-int64(m.clock.Since(start)/time.Second), minStopGrace)
}
