package kuberuntime

import (
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// PodStatus computes the pod's status from the runtime state and the last
// sync's waiting reasons: phase, the five upstream conditions (transition
// times kept from pod.Status when unchanged), container statuses, pod and
// host IPs, start time and QoS class.
func (m *Manager) PodStatus(pod *v1.Pod, state *PodState) v1.PodStatus {
	now := metav1.NewTime(m.clock.Now().Truncate(time.Second))
	st := v1.PodStatus{QOSClass: QOSClass(pod), StartTime: pod.Status.StartTime}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	for _, ip := range m.cfg.NodeIPs() {
		st.HostIPs = append(st.HostIPs, v1.HostIP{IP: ip})
	}
	if len(st.HostIPs) > 0 {
		st.HostIP = st.HostIPs[0].IP
	}
	sb := state.Newest()
	sandboxReady := sb != nil && sb.State == runtimeapi.PodSandboxState_SANDBOX_READY
	sbID := ""
	if sb != nil {
		sbID = sb.Id
		ips := sandboxIPs(sb)
		if pod.Spec.HostNetwork {
			ips = m.cfg.NodeIPs()
		}
		if len(ips) == 0 && !sandboxReady {
			// As upstream: a sandbox torn down (the pod completed, or the
			// node restarted) has no address any more, but the API keeps
			// the pod's until a new sandbox has one.
			for _, ip := range pod.Status.PodIPs {
				ips = append(ips, ip.IP)
			}
		}
		for _, ip := range ips {
			st.PodIPs = append(st.PodIPs, v1.PodIP{IP: ip})
		}
		if len(ips) > 0 {
			st.PodIP = ips[0]
		}
	}
	initDone := true
	for _, c := range pod.Spec.InitContainers {
		cs := m.containerStatus(pod, &c, state, sbID, "PodInitializing")
		cs.Ready = cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
		if !cs.Ready {
			initDone = false
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	waitReason := "ContainerCreating"
	if !initDone {
		waitReason = "PodInitializing"
	}
	allReady := true
	for _, c := range pod.Spec.Containers {
		cs := m.containerStatus(pod, &c, state, sbID, waitReason)
		if !cs.Ready {
			allReady = false
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	st.EphemeralContainerStatuses = m.ephemeralStatuses(pod, state, sbID, waitReason)
	st.Phase = podPhase(pod, st.InitContainerStatuses, st.ContainerStatuses, initDone)
	cond := func(t v1.PodConditionType, ok bool, reason string) v1.PodCondition {
		c := v1.PodCondition{Type: t, Status: v1.ConditionFalse, Reason: reason, LastTransitionTime: now}
		if ok {
			c.Status, c.Reason = v1.ConditionTrue, ""
		}
		for _, old := range pod.Status.Conditions {
			if old.Type == t && old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		return c
	}
	terminal := st.Phase == v1.PodSucceeded || st.Phase == v1.PodFailed
	notReadyReason := "ContainersNotReady"
	if terminal {
		notReadyReason = "PodCompleted"
	}
	initReason := "ContainersNotInitialized"
	if terminal && initDone {
		initReason = "PodCompleted"
	}
	st.Conditions = []v1.PodCondition{
		cond("PodReadyToStartContainers", sandboxReady, ""),
		cond(v1.PodInitialized, initDone || (terminal && len(pod.Spec.InitContainers) == 0), initReason),
		cond(v1.PodReady, allReady && !terminal, notReadyReason),
		cond(v1.ContainersReady, allReady && !terminal, notReadyReason),
		cond(v1.PodScheduled, true, ""),
	}
	if st.Conditions[1].Status == v1.ConditionTrue {
		st.Conditions[1].Reason = ""
	}
	if terminal && initDone {
		st.Conditions[1].Status, st.Conditions[1].Reason = v1.ConditionTrue, "PodCompleted"
	}
	return st
}

func (m *Manager) containerStatus(pod *v1.Pod, c *v1.Container, state *PodState, sbID, defaultWait string) v1.ContainerStatus {
	out := v1.ContainerStatus{Name: c.Name, Image: c.Image, Started: ptr(false)}
	cs := state.Latest(c.Name, sbID)
	if cs == nil && sbID != "" {
		cs = state.Latest(c.Name, "") // from an earlier sandbox
	}
	if cs != nil {
		out.ContainerID = "containerd://" + cs.Id
		out.ImageID = cs.ImageRef
		out.RestartCount = int32(restartCountOf(cs))
		out.State = containerState(cs, c.TerminationMessagePolicy)
		if prev := state.Previous(cs); prev != nil {
			out.LastTerminationState = containerState(prev, c.TerminationMessagePolicy)
		}
		out.Started = ptr(running(cs))
		out.Ready = running(cs) && cs.Labels[sandboxLabel] == sbID
		if m.probes != nil && running(cs) {
			out.Started = ptr(m.probes.Started(pod.UID, cs.Id, c))
			out.Ready = out.Ready && m.probes.Ready(pod.UID, cs.Id, c)
		}
		if strings.HasPrefix(out.ImageID, "sha256:") {
			out.ImageID = cs.Image.GetImage() + "@" + out.ImageID
		}
	}
	if w := m.waitingFor(pod.UID, c.Name); w != nil && !running(cs) {
		if exited(cs) {
			out.LastTerminationState = out.State
		}
		out.State = v1.ContainerState{Waiting: w}
	} else if cs == nil {
		out.State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: defaultWait}}
	}
	return out
}

func containerState(cs *runtimeapi.ContainerStatus, msgPolicy v1.TerminationMessagePolicy) v1.ContainerState {
	switch cs.State {
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(time.Unix(0, cs.StartedAt))}}
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		reason := cs.Reason
		if reason == "" || (reason == "Error" && cs.ExitCode == 0) {
			reason = "Completed"
			if cs.ExitCode != 0 {
				reason = "Error"
			}
		}
		return v1.ContainerState{Terminated: &v1.ContainerStateTerminated{ExitCode: cs.ExitCode, Reason: reason, Message: terminationMessage(cs, msgPolicy),
			StartedAt: metav1.NewTime(time.Unix(0, cs.StartedAt)), FinishedAt: metav1.NewTime(time.Unix(0, cs.FinishedAt)),
			ContainerID: "containerd://" + cs.Id}}
	}
	return v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: "ContainerCreating"}}
}

// podPhase follows upstream's getPhase for the common cases.
func podPhase(pod *v1.Pod, inits, containers []v1.ContainerStatus, initDone bool) v1.PodPhase {
	policy := pod.Spec.RestartPolicy
	for _, s := range inits {
		if t := s.State.Terminated; t != nil && t.ExitCode != 0 && policy == v1.RestartPolicyNever {
			return v1.PodFailed
		}
	}
	if !initDone {
		return v1.PodPending
	}
	var running, waiting, succeeded, failed int
	for _, s := range containers {
		switch {
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil && s.State.Terminated.ExitCode == 0:
			succeeded++
		case s.State.Terminated != nil:
			failed++
		case s.LastTerminationState.Terminated != nil:
			// waiting to restart after having run (CrashLoopBackOff)
			running++
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return v1.PodPending
	case running > 0:
		return v1.PodRunning
	case policy == v1.RestartPolicyAlways || policy == "":
		return v1.PodRunning // restarting
	case failed > 0 && policy == v1.RestartPolicyNever:
		return v1.PodFailed
	case failed > 0:
		return v1.PodRunning // OnFailure: restarting
	default:
		return v1.PodSucceeded
	}
}

func ptr[T any](v T) *T { return &v }
