package endpoints

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	utilnet "k8s.io/utils/net"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// This file holds what the endpoints and endpointslice controllers share
// (upstream's k8s.io/endpointslice/util): which pods back a Service, with
// which ports, and which Services a pod's change concerns.

// IsPodReady reports whether pod's Ready condition is True.
func IsPodReady(pod *corev1.Pod) bool {
	c := podReadyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

func podReadyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// PodIncluded reports whether pod appears in a Service's endpoints at all
// (ready or not): it is not terminal (phase Succeeded or Failed), it has an
// IP, and, unless includeTerminating, it is not being deleted.
func PodIncluded(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.Status.PodIP == "" && len(pod.Status.PodIPs) == 0 {
		return false
	}
	return includeTerminating || pod.DeletionTimestamp == nil
}

// ShouldSetHostname reports whether pod's endpoint carries its
// spec.hostname: when it has one and its spec.subdomain names svc (in the
// pod's namespace).
func ShouldSetHostname(pod *corev1.Pod, svc *corev1.Service) bool {
	return pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && svc.Namespace == pod.Namespace
}

// FindPort returns the container port svcPort's targetPort names on pod: a
// number as it is, a name looked up among the named ports of the pod's
// containers and restartable init containers (sidecars) with svcPort's
// protocol. It fails when the name is found nowhere.
func FindPort(pod *corev1.Pod, svcPort *corev1.ServicePort) (int32, error) {
	target := svcPort.TargetPort
	if target.Type == intstr.Int {
		return target.IntVal, nil
	}
	find := func(cs []corev1.Container, sidecarsOnly bool) (int32, bool) {
		for _, c := range cs {
			if sidecarsOnly && (c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways) {
				continue
			}
			for _, p := range c.Ports {
				if p.Name == target.StrVal && p.Protocol == svcPort.Protocol {
					return p.ContainerPort, true
				}
			}
		}
		return 0, false
	}
	if port, ok := find(pod.Spec.Containers, false); ok {
		return port, nil
	}
	if port, ok := find(pod.Spec.InitContainers, true); ok {
		return port, nil
	}
	return 0, fmt.Errorf("no container port named %q (%s) in pod %s/%s", target.StrVal, svcPort.Protocol, pod.Namespace, pod.Name)
}

// PodIPs returns pod's IPs of one family (IPv6 when ipv6), each in its
// canonical form (sloppy IPv4 with leading zeros accepted, as upstream),
// in status order. status.podIPs is read, status.podIP only when podIPs is
// empty.
func PodIPs(pod *corev1.Pod, ipv6 bool) []string {
	ips := make([]string, 0, len(pod.Status.PodIPs))
	for _, p := range pod.Status.PodIPs {
		ips = append(ips, p.IP)
	}
	if len(ips) == 0 && pod.Status.PodIP != "" {
		ips = append(ips, pod.Status.PodIP)
	}
	var out []string
	for _, s := range ips {
		ip := utilnet.ParseIPSloppy(s)
		if ip == nil {
			continue
		}
		if (ip.To4() == nil) == ipv6 {
			out = append(out, ip.String())
		}
	}
	return out
}

// IsIPv6String reports whether s is an IPv6 address.
func IsIPv6String(s string) bool { return utilnet.IsIPv6String(s) }

// PodHandler returns the pod informer event handler both controllers
// use: for a pod added, changed or deleted it calls enqueue with the key
// ("namespace/name") of every Service whose endpoints the change may
// affect (see ServicesForPodChange). Lookup errors are logged.
func PodHandler(services corelisters.ServiceLister, enqueue func(key string), logger *slog.Logger) cache.ResourceEventHandler {
	handle := func(oldObj, newObj any) {
		var oldPod, newPod *corev1.Pod
		if oldObj != nil {
			oldPod, _ = controller.Object[*corev1.Pod](oldObj)
		}
		if newObj != nil {
			newPod, _ = controller.Object[*corev1.Pod](newObj)
		}
		keys, err := ServicesForPodChange(services, oldPod, newPod)
		if err != nil {
			logger.Error("cannot find the services of a pod", "err", err)
			return
		}
		for _, k := range keys {
			enqueue(k)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { handle(nil, obj) },
		UpdateFunc: handle,
		DeleteFunc: func(obj any) { handle(obj, nil) },
	}
}

// ServicesForPodChange returns the keys, sorted, of the Services (with a
// selector) whose endpoints a pod's change from oldPod to newPod may
// affect. oldPod is nil for an addition, newPod for a deletion: the
// Services selecting the pod. For an update, as upstream:
//   - nothing when the resourceVersion is the same (a resync) or nothing
//     that matters changed;
//   - the Services selecting the new pod when only its endpoint changed
//     (deletionTimestamp, readiness, IPs);
//   - when its labels (or hostname or subdomain) changed, the Services
//     selecting the old or the new pod if its endpoint changed too, else
//     only those selecting just one of them.
func ServicesForPodChange(services corelisters.ServiceLister, oldPod, newPod *corev1.Pod) ([]string, error) {
	switch {
	case oldPod == nil && newPod == nil:
		return nil, nil
	case oldPod == nil:
		return sortedKeys(servicesSelecting(services, newPod.Namespace, newPod.Labels))
	case newPod == nil:
		return sortedKeys(servicesSelecting(services, oldPod.Namespace, oldPod.Labels))
	}
	if oldPod.ResourceVersion == newPod.ResourceVersion {
		return nil, nil
	}
	podChanged := endpointChanged(oldPod, newPod)
	labelsChanged := !maps.Equal(oldPod.Labels, newPod.Labels) ||
		oldPod.Spec.Hostname != newPod.Spec.Hostname || oldPod.Spec.Subdomain != newPod.Spec.Subdomain
	if !podChanged && !labelsChanged {
		return nil, nil
	}
	cur, err := servicesSelecting(services, newPod.Namespace, newPod.Labels)
	if err != nil || !labelsChanged {
		return sortedKeys(cur, err)
	}
	old, err := servicesSelecting(services, oldPod.Namespace, oldPod.Labels)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for k := range cur {
		if podChanged || !old[k] {
			out[k] = true
		}
	}
	for k := range old {
		if podChanged || !cur[k] {
			out[k] = true
		}
	}
	return sortedKeys(out, nil)
}

// endpointChanged reports whether a pod's update may change its endpoint:
// its deletionTimestamp, readiness or IPs. (Name, namespace and uid are
// immutable, and nodeName is set before the pod has an IP.)
func endpointChanged(oldPod, newPod *corev1.Pod) bool {
	if !oldPod.DeletionTimestamp.Equal(newPod.DeletionTimestamp) {
		return true
	}
	if IsPodReady(oldPod) != IsPodReady(newPod) {
		return true
	}
	return !slices.Equal(oldPod.Status.PodIPs, newPod.Status.PodIPs) || oldPod.Status.PodIP != newPod.Status.PodIP
}

// servicesSelecting returns the keys of the Services in namespace whose
// selector (non-nil) matches podLabels.
func servicesSelecting(services corelisters.ServiceLister, namespace string, podLabels map[string]string) (map[string]bool, error) {
	list, err := services.Services(namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, svc := range list {
		if svc.Spec.Selector == nil {
			continue // a nil selector selects nothing, not everything
		}
		if labels.SelectorFromValidatedSet(svc.Spec.Selector).Matches(labels.Set(podLabels)) {
			out[svc.Namespace+"/"+svc.Name] = true
		}
	}
	return out, nil
}

func sortedKeys(m map[string]bool, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(m)), nil
}
