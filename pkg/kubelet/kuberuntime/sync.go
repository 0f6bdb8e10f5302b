package kuberuntime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// waitingError makes a container wait with a reason (ErrImagePull, …).
type waitingError struct{ reason, message string }

func (e *waitingError) Error() string { return e.reason + ": " + e.message }

// SyncPod drives pod towards its spec: a ready sandbox, its volumes, the
// ephemeral containers not started yet (before init containers, as
// upstream, so a pod stuck initializing can be debugged), init
// containers one at a time in order, then every regular container, with
// restarts as restartPolicy says and CrashLoopBackOff between them. It is
// idempotent; call it again whenever the pod or its containers change. The
// returned error is informational: the per-container outcome is in the
// pod status (Status).
func (m *Manager) SyncPod(ctx context.Context, pod *v1.Pod) error {
	state, err := m.GetPodState(ctx, pod.UID)
	if err != nil {
		return err
	}
	m.garbageCollect(ctx, state)
	if m.podFinished(pod, state) {
		// Terminal pods keep their containers (for status and logs) but not a running sandbox.
		if sb := state.Newest(); sb != nil && sb.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			return m.runtime.StopPodSandbox(ctx, sb.Id)
		}
		return nil
	}
	sb := state.Newest()
	if sb == nil || sb.State != runtimeapi.PodSandboxState_SANDBOX_READY {
		if sb, err = m.newSandbox(ctx, pod, state); err != nil {
			return err
		}
	}
	for _, old := range state.Sandboxes {
		if old.Id != sb.Id && old.State == runtimeapi.PodSandboxState_SANDBOX_READY {
			_ = m.runtime.StopPodSandbox(ctx, old.Id)
		}
	}
	if err := m.prepareVolumes(ctx, pod); err != nil {
		for _, c := range pod.Spec.Containers {
			m.setWaiting(pod.UID, c.Name, &v1.ContainerStateWaiting{Reason: "ContainerCreating", Message: err.Error()})
		}
		return err
	}
	sbCfg, err := m.sandboxConfig(pod, sb.GetMetadata().GetAttempt())
	if err != nil {
		return err
	}
	podIPs := sandboxIPs(sb)
	if pod.Spec.HostNetwork {
		podIPs = m.cfg.NodeIPs()
	}
	if err := m.startEphemeralContainers(ctx, pod, sb.Id, sbCfg, podIPs, state); err != nil {
		m.logger.Warn("ephemeral containers", "pod", podFullName(pod), "err", err)
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := state.Latest(c.Name, sb.Id)
		switch {
		case cs == nil:
			return m.startContainer(ctx, pod, c, sb.Id, sbCfg, podIPs, state, true)
		case exited(cs) && cs.ExitCode == 0:
			continue
		case exited(cs):
			if pod.Spec.RestartPolicy == v1.RestartPolicyNever {
				return nil
			}
			return m.restartContainer(ctx, pod, c, cs, sb.Id, sbCfg, podIPs, state, true)
		case cs.State == runtimeapi.ContainerState_CONTAINER_CREATED:
			return m.runtime.StartContainer(ctx, cs.Id)
		default: // running: wait for it
			return nil
		}
	}
	var errs []error
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := state.Latest(c.Name, sb.Id)
		var err error
		switch {
		case cs == nil:
			err = m.startContainer(ctx, pod, c, sb.Id, sbCfg, podIPs, state, false)
		case running(cs) && cs.Annotations[annotationContainerHash] != containerHash(c):
			m.logger.Info("container spec changed, restarting", "pod", podFullName(pod), "container", c.Name)
			if err = m.runtime.StopContainer(ctx, cs.Id, gracePeriod(pod, nil)); err == nil {
				err = m.startContainer(ctx, pod, c, sb.Id, sbCfg, podIPs, state, false)
			}
		case running(cs):
			m.setWaiting(pod.UID, c.Name, nil)
		case cs.State == runtimeapi.ContainerState_CONTAINER_CREATED:
			err = m.runtime.StartContainer(ctx, cs.Id)
		case exited(cs) && shouldRestart(pod.Spec.RestartPolicy, cs.ExitCode):
			err = m.restartContainer(ctx, pod, c, cs, sb.Id, sbCfg, podIPs, state, false)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("container %s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}

func shouldRestart(policy v1.RestartPolicy, exitCode int32) bool {
	return policy == v1.RestartPolicyAlways || policy == "" || (policy == v1.RestartPolicyOnFailure && exitCode != 0)
}

// podFinished: no container will run again (restartPolicy Never or
// OnFailure with every container done, or a failed init container under Never).
func (m *Manager) podFinished(pod *v1.Pod, state *PodState) bool {
	sb := state.Newest()
	if sb == nil || pod.Spec.RestartPolicy == v1.RestartPolicyAlways || pod.Spec.RestartPolicy == "" {
		return false
	}
	for _, c := range pod.Spec.InitContainers {
		cs := state.Latest(c.Name, sb.Id)
		if exited(cs) && cs.ExitCode != 0 && pod.Spec.RestartPolicy == v1.RestartPolicyNever {
			return true
		}
	}
	for _, c := range pod.Spec.Containers {
		cs := state.Latest(c.Name, sb.Id)
		if !exited(cs) || shouldRestart(pod.Spec.RestartPolicy, cs.ExitCode) {
			return false
		}
	}
	return true
}

func (m *Manager) newSandbox(ctx context.Context, pod *v1.Pod, state *PodState) (*runtimeapi.PodSandboxStatus, error) {
	// Containers of an old sandbox die with it.
	for _, c := range state.Containers {
		if running(c) {
			_ = m.runtime.StopContainer(ctx, c.Id, gracePeriod(pod, nil))
		}
	}
	cfg, err := m.sandboxConfig(pod, nextSandboxAttempt(state))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.LogDirectory, 0o755); err != nil {
		return nil, err
	}
	id, err := m.runtime.RunPodSandbox(ctx, cfg)
	if err != nil {
		for _, c := range pod.Spec.Containers {
			m.setWaiting(pod.UID, c.Name, &v1.ContainerStateWaiting{Reason: "ContainerCreating", Message: "failed to create pod sandbox: " + err.Error()})
		}
		m.event(pod, v1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: %v", err)
		return nil, fmt.Errorf("run pod sandbox: %w", err)
	}
	m.logger.Info("started pod sandbox", "pod", podFullName(pod), "sandbox", id)
	return m.runtime.PodSandboxStatus(ctx, id)
}

// nextSandboxAttempt numbers a new sandbox one past the highest attempt the
// pod's sandboxes hold, as upstream does. Their count would not do: the
// garbage collector removes old sandboxes, and containerd refuses a name
// (<pod>_<ns>_<uid>_<attempt>) that a sandbox still holds.
func nextSandboxAttempt(state *PodState) uint32 {
	next := uint32(0)
	for _, sb := range state.Sandboxes {
		if a := sb.GetMetadata().GetAttempt(); a >= next {
			next = a + 1
		}
	}
	return next
}

// restartContainer restarts an exited container unless it is backing off.
func (m *Manager) restartContainer(ctx context.Context, pod *v1.Pod, c *v1.Container, cs *runtimeapi.ContainerStatus, sandboxID string,
	sbCfg *runtimeapi.PodSandboxConfig, podIPs []string, state *PodState, init bool) error {
	key := string(pod.UID) + "/" + c.Name
	finished := time.Unix(0, cs.FinishedAt)
	if in, delay := m.backoff.InBackoffSince(key, finished); in {
		m.setWaiting(pod.UID, c.Name, &v1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
			Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s", delay, c.Name, podFullName(pod))})
		m.event(pod, v1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s", c.Name, podFullName(pod))
		return nil
	}
	m.backoff.Next(key, finished)
	return m.startContainer(ctx, pod, c, sandboxID, sbCfg, podIPs, state, init)
}

func (m *Manager) startContainer(ctx context.Context, pod *v1.Pod, c *v1.Container, sandboxID string,
	sbCfg *runtimeapi.PodSandboxConfig, podIPs []string, state *PodState, init bool) error {
	err := m.createAndStart(ctx, pod, c, sandboxID, sbCfg, podIPs, state, init)
	m.recordStart(pod, c.Name, err)
	return err
}

// recordStart records the outcome of starting container name: its waiting
// reason (cleared on success) and a Failed event.
func (m *Manager) recordStart(pod *v1.Pod, name string, err error) {
	if err != nil {
		m.eventFailed(pod, err)
	}
	var we *waitingError
	var ce *configError
	switch {
	case err == nil:
		m.setWaiting(pod.UID, name, nil)
	case errors.As(err, &we):
		m.setWaiting(pod.UID, name, &v1.ContainerStateWaiting{Reason: we.reason, Message: we.message})
	case errors.As(err, &ce):
		m.setWaiting(pod.UID, name, &v1.ContainerStateWaiting{Reason: "CreateContainerConfigError", Message: ce.msg})
	default:
		m.setWaiting(pod.UID, name, &v1.ContainerStateWaiting{Reason: "CreateContainerError", Message: err.Error()})
	}
}

func (m *Manager) createAndStart(ctx context.Context, pod *v1.Pod, c *v1.Container, sandboxID string,
	sbCfg *runtimeapi.PodSandboxConfig, podIPs []string, state *PodState, init bool) error {
	if err := m.ensureImage(ctx, pod, c, sbCfg); err != nil {
		return err
	}
	restarts := state.nextRestartCount(c.Name)
	cfg, err := m.containerConfig(ctx, pod, c, restarts, podIPs, init)
	if err != nil {
		return err
	}
	return m.runContainer(ctx, pod, c, sandboxID, cfg, sbCfg, podIPs)
}

// runContainer creates and starts container c from cfg in the sandbox and
// runs its postStart handler.
func (m *Manager) runContainer(ctx context.Context, pod *v1.Pod, c *v1.Container, sandboxID string,
	cfg *runtimeapi.ContainerConfig, sbCfg *runtimeapi.PodSandboxConfig, podIPs []string) error {
	id, err := m.runtime.CreateContainer(ctx, sandboxID, cfg, sbCfg)
	if err != nil {
		m.event(pod, v1.EventTypeWarning, "Failed", "Failed to create container %s: %v", c.Name, err)
		return fmt.Errorf("create container: %w", err)
	}
	m.event(pod, v1.EventTypeNormal, "Created", "Created container: %s", c.Name)
	if err := m.runtime.StartContainer(ctx, id); err != nil {
		m.event(pod, v1.EventTypeWarning, "Failed", "Failed to start container %s: %v", c.Name, err)
		return &waitingError{reason: "RunContainerError", message: err.Error()}
	}
	m.event(pod, v1.EventTypeNormal, "Started", "Started container %s", c.Name)
	if h := c.Lifecycle; h != nil && h.PostStart != nil && m.hooks != nil {
		if err := m.hooks.RunHook(ctx, pod, c, id, podIPs, h.PostStart); err != nil {
			msg := fmt.Sprintf("PostStartHook failed: %v", err)
			m.event(pod, v1.EventTypeWarning, "FailedPostStartHook", "%s", msg)
			_ = m.runtime.StopContainer(ctx, id, gracePeriod(pod, nil))
			return &waitingError{reason: "PostStartHookError", message: msg}
		}
	}
	m.logger.Info("started container", "pod", podFullName(pod), "container", c.Name, "id", id, "restartCount", cfg.GetMetadata().GetAttempt())
	return nil
}

// ensureImage makes c's image present as its imagePullPolicy says.
func (m *Manager) ensureImage(ctx context.Context, pod *v1.Pod, c *v1.Container, sbCfg *runtimeapi.PodSandboxConfig) error {
	spec := &runtimeapi.ImageSpec{Image: c.Image}
	img, err := m.runtime.ImageStatus(ctx, spec)
	if err != nil {
		return &waitingError{reason: "ErrImagePull", message: err.Error()}
	}
	switch c.ImagePullPolicy {
	case v1.PullNever:
		if img == nil {
			msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
			m.event(pod, v1.EventTypeWarning, "ErrImageNeverPull", "%s", msg)
			return &waitingError{reason: "ErrImageNeverPull", message: msg}
		}
		m.event(pod, v1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.Image)
		return nil
	case v1.PullAlways:
	default:
		if img != nil {
			m.event(pod, v1.EventTypeNormal, "Pulled", "Container image %q already present on machine", c.Image)
			return nil
		}
	}
	key := string(pod.UID) + "/image:" + c.Image
	if m.backoff.InBackoffSinceUpdate(key) {
		m.event(pod, v1.EventTypeNormal, "BackOff", "Back-off pulling image %q", c.Image)
		return &waitingError{reason: "ImagePullBackOff", message: fmt.Sprintf("Back-off pulling image %q", c.Image)}
	}
	m.event(pod, v1.EventTypeNormal, "Pulling", "Pulling image %q", c.Image)
	start := m.clock.Now()
	if _, err := m.runtime.PullImage(ctx, spec, sbCfg); err != nil {
		m.backoff.Next(key, m.clock.Now())
		m.event(pod, v1.EventTypeWarning, "Failed", "Failed to pull image %q: %v", c.Image, err)
		return &waitingError{reason: "ErrImagePull", message: err.Error()}
	}
	m.eventPulled(pod, c.Image, m.clock.Since(start))
	m.backoff.Reset(key)
	return nil
}
