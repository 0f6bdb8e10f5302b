package kubelet

import (
	"context"
	"time"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/kuberuntime"
	"github.com/kinc-dev/kinc/pkg/kubelet/prober"
)

// probeTargets lists the running containers of pod's current sandbox that
// have probes.
func probeTargets(pod *v1.Pod, state *kuberuntime.PodState, podIPs []string) []prober.Target {
	sb := state.Newest()
	if sb == nil || sb.State != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil
	}
	podIP := ""
	if len(podIPs) > 0 {
		podIP = podIPs[0]
	}
	var out []prober.Target
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if c.StartupProbe == nil && c.LivenessProbe == nil && c.ReadinessProbe == nil {
			continue
		}
		cs := state.Latest(c.Name, sb.Id)
		if cs == nil || cs.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
			continue
		}
		out = append(out, prober.Target{Pod: pod, Container: c, ContainerID: cs.Id, StartedAt: time.Unix(0, cs.StartedAt), PodIP: podIP})
	}
	return out
}

// killUnhealthy stops a container that failed its liveness or startup
// probe; the next sync restarts it as its restart policy says.
func (k *Kubelet) killUnhealthy(ctx context.Context, t prober.Target, reason string) {
	k.rm.Event(t.Pod, v1.EventTypeNormal, "Killing", "Container %s %s, will be restarted", t.Container.Name, reason)
	grace := int64(30)
	if g := t.Pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = *g
	}
	if err := k.runtime.StopContainer(ctx, t.ContainerID, grace); err != nil {
		k.logger.Warn("stop unhealthy container", "pod", t.Pod.Namespace+"/"+t.Pod.Name, "container", t.Container.Name, "err", err)
	}
}

// hookRunner runs lifecycle handlers through the prober's handlers.
type hookRunner struct{ p *prober.Manager }

func (h hookRunner) RunHook(ctx context.Context, pod *v1.Pod, c *v1.Container, id string, podIPs []string, lh *v1.LifecycleHandler) error {
	t := prober.Target{Pod: pod, Container: c, ContainerID: id}
	if len(podIPs) > 0 {
		t.PodIP = podIPs[0]
	}
	return h.p.RunHook(ctx, t, lh)
}
