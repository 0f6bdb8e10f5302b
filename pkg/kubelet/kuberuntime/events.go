package kuberuntime

import (
	"fmt"
	"time"

	v1 "k8s.io/api/core/v1"
)

// event records a pod event through the manager's recorder (a no-op
// without one). Reasons and messages are upstream's (pkg/kubelet/events).
func (m *Manager) event(pod *v1.Pod, eventType, reason, format string, args ...any) {
	if m.recorder == nil || len(pod.Spec.Containers) == 0 {
		return // no recorder, or a skeletal orphan pod
	}
	m.recorder.Eventf(pod, eventType, reason, format, args...)
}

// Event records a pod event (for the kubelet's other parts, e.g. probes).
func (m *Manager) Event(pod *v1.Pod, eventType, reason, format string, args ...any) {
	m.event(pod, eventType, reason, format, args...)
}

func (m *Manager) eventPulled(pod *v1.Pod, image string, took time.Duration) {
	m.event(pod, v1.EventTypeNormal, "Pulled", "Successfully pulled image %q in %s", image, took.Round(time.Millisecond))
}

func (m *Manager) eventFailed(pod *v1.Pod, err error) {
	m.event(pod, v1.EventTypeWarning, "Failed", "Error: %s", waitingReason(err))
}

// waitingReason is the reason a container waits after err.
func waitingReason(err error) string {
	switch e := err.(type) {
	case *waitingError:
		return e.reason
	case *configError:
		return e.msg
	}
	return fmt.Sprint(err)
}
