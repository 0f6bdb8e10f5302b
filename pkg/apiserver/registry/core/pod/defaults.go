package pod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry/core/podspec"
)

// Priorities of the two built-in PriorityClasses, as upstream's scheduling
// API defines them.
const (
	systemClusterCritical = 2000000000
	systemNodeCritical    = 2000001000
)

// defaultTolerationSeconds is what the DefaultTolerationSeconds admission
// plugin gives pods for node.kubernetes.io/not-ready and unreachable.
const defaultTolerationSeconds = 300

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

// admitCreate applies what upstream's mutating admission plugins do to a new
// pod: serviceAccountName "default" (ServiceAccount), priority and
// preemptionPolicy (Priority, for the built-in classes or none), and the
// not-ready/unreachable tolerations (DefaultTolerationSeconds).
func admitCreate(pod *corev1.Pod) {
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = "default"
		pod.Spec.DeprecatedServiceAccount = "default"
	}
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
	addDefaultTolerations(pod)
}

// addDefaultTolerations adds NoExecute tolerations for the not-ready and
// unreachable taints unless the pod already tolerates them.
func addDefaultTolerations(pod *corev1.Pod) {
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
	add := func(key string) {
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
			Key:               key,
			Operator:          corev1.TolerationOpExists,
			Effect:            corev1.TaintEffectNoExecute,
			TolerationSeconds: ptr.To[int64](defaultTolerationSeconds),
		})
	}
	if !notReady {
		add(corev1.TaintNodeNotReady)
	}
	if !unreachable {
		add(corev1.TaintNodeUnreachable)
	}
}
