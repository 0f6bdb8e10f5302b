package pod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
)

// Priorities of the two built-in PriorityClasses, as upstream's scheduling
// API defines them.
const (
	systemClusterCritical = 2000000000
	systemNodeCritical    = 2000001000
)

// DefaultTolerationSeconds is upstream's default of
// --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds.
const DefaultTolerationSeconds = 300

// DefaultTolerations returns upstream's defaults: 300 s for both taints.
func DefaultTolerations() registry.TolerationSeconds {
	return registry.TolerationSeconds{NotReady: DefaultTolerationSeconds, Unreachable: DefaultTolerationSeconds}
}

// SetDefaults applies upstream's Pod defaults: the PodSpec defaults
// (podspec.SetDefaultsPodSpec) plus the pod-only ones of SetDefaults_Pod —
// requests default to limits, enableServiceLinks true, and container ports
// mirrored to host ports under hostNetwork.
func SetDefaults(pod *corev1.Pod) {
	podspec.SetDefaultsPodSpec(&pod.Spec)
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			r := &list[i].Resources
			if r.Limits == nil {
				continue
			}
			if r.Requests == nil {
				r.Requests = make(corev1.ResourceList, len(r.Limits))
			}
			for name, q := range r.Limits {
				if _, ok := r.Requests[name]; !ok {
					r.Requests[name] = q.DeepCopy()
				}
			}
		}
	}
	if pod.Spec.EnableServiceLinks == nil {
		pod.Spec.EnableServiceLinks = ptr.To(corev1.DefaultEnableServiceLinks)
	}
	if pod.Spec.HostNetwork {
		for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
			for i := range list {
				for j := range list[i].Ports {
					if p := &list[i].Ports[j]; p.HostPort == 0 {
						p.HostPort = p.ContainerPort
					}
				}
			}
		}
	}
}

// admitCreate applies what two of upstream's mutating admission plugins do
// to a new pod: priority and preemptionPolicy (Priority, for the built-in
// classes or none), and the not-ready/unreachable tolerations
// (DefaultTolerationSeconds, with ts). The ServiceAccount plugin is
// admission/serviceaccount.
func admitCreate(pod *corev1.Pod, ts registry.TolerationSeconds) {
	if pod.Spec.Priority == nil {
		switch pod.Spec.PriorityClassName {
		case "system-cluster-critical":
			pod.Spec.Priority = ptr.To[int32](systemClusterCritical)
		case "system-node-critical":
			pod.Spec.Priority = ptr.To[int32](systemNodeCritical)
		default:
			pod.Spec.Priority = ptr.To[int32](0)
		}
	}
	if pod.Spec.PreemptionPolicy == nil {
		pod.Spec.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
	}
	addDefaultTolerations(pod, ts)
}

// addDefaultTolerations is the DefaultTolerationSeconds admission plugin,
// on create and update as upstream: it adds a NoExecute toleration of
// node.kubernetes.io/not-ready for ts.NotReady seconds, and one of
// node.kubernetes.io/unreachable for ts.Unreachable seconds, unless the pod
// already tolerates that taint's NoExecute effect (a toleration with that
// key or no key, and effect NoExecute or none), whatever its seconds.
func addDefaultTolerations(pod *corev1.Pod, ts registry.TolerationSeconds) {
	var notReady, unreachable bool
	for _, t := range pod.Spec.Tolerations {
		noExecute := t.Effect == corev1.TaintEffectNoExecute || t.Effect == ""
		if (t.Key == corev1.TaintNodeNotReady || t.Key == "") && noExecute {
			notReady = true
		}
		if (t.Key == corev1.TaintNodeUnreachable || t.Key == "") && noExecute {
			unreachable = true
		}
	}
	add := func(key string, seconds int64) {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
			Key:               key,
			Operator:          corev1.TolerationOpExists,
			Effect:            corev1.TaintEffectNoExecute,
			TolerationSeconds: ptr.To(seconds),
		})
	}
	if !notReady {
		add(corev1.TaintNodeNotReady, ts.NotReady)
	}
	if !unreachable {
		add(corev1.TaintNodeUnreachable, ts.Unreachable)
	}
}
