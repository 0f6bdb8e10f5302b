package endpointslice

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/endpoints"
)

// podEndpoint returns pod's endpoint in svc's slices of addressType, as
// upstream: its IPs of that family, conditions (serving = the pod's Ready
// condition; terminating = being deleted; ready = serving and not
// terminating, or always with publishNotReadyAddresses), nodeName, the
// node's zone label when node is known, the hostname when its subdomain
// names svc, and a targetRef to the pod.
func podEndpoint(pod *corev1.Pod, node *corev1.Node, svc *corev1.Service, addressType discoveryv1.AddressType) discoveryv1.Endpoint {
	serving := endpoints.IsPodReady(pod)
	terminating := pod.DeletionTimestamp != nil
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses:  endpoints.PodIPs(pod, addressType == discoveryv1.AddressTypeIPv6),
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		ep.NodeName = ptr.To(pod.Spec.NodeName)
	}
	if node != nil && node.Labels[corev1.LabelTopologyZone] != "" {
		ep.Zone = ptr.To(node.Labels[corev1.LabelTopologyZone])
	}
	if endpoints.ShouldSetHostname(pod, svc) {
		ep.Hostname = ptr.To(pod.Spec.Hostname)
	}
	return ep
}

// podPorts returns the ports of svc resolved on pod (a named targetPort
// the pod lacks is left out), sorted (see sortPorts); none for a headless
// Service without ports.
func podPorts(svc *corev1.Service, pod *corev1.Pod) []discoveryv1.EndpointPort {
	out := []discoveryv1.EndpointPort{}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		port, err := endpoints.FindPort(pod, sp)
		if err != nil {
			continue
		}
		out = append(out, discoveryv1.EndpointPort{Name: ptr.To(sp.Name), Port: ptr.To(port), Protocol: ptr.To(sp.Protocol), AppProtocol: sp.AppProtocol})
	}
	sortPorts(out)
	return out
}

// sortPorts puts ports in a canonical order: by name, port, protocol and
// app protocol.
func sortPorts(ports []discoveryv1.EndpointPort) {
	slices.SortFunc(ports, func(a, b discoveryv1.EndpointPort) int {
		return cmp.Or(cmp.Compare(ptr.Deref(a.Name, ""), ptr.Deref(b.Name, "")), cmp.Compare(ptr.Deref(a.Port, 0), ptr.Deref(b.Port, 0)),
			cmp.Compare(ptr.Deref(a.Protocol, ""), ptr.Deref(b.Protocol, "")), cmp.Compare(appProtocolKey(a.AppProtocol), appProtocolKey(b.AppProtocol)))
	})
}

func appProtocolKey(s *string) string {
	if s == nil {
		return ""
	}
	return "\x00" + *s
}

// portsKey identifies a set of ports, whatever their order: endpoints
// with the same ports share slices.
type portsKey string

func keyOfPorts(ports []discoveryv1.EndpointPort) portsKey {
	sorted := slices.Clone(ports)
	sortPorts(sorted)
	var b strings.Builder
	for _, p := range sorted {
		fmt.Fprintf(&b, "%q/%d/%q/%q;", ptr.Deref(p.Name, "\x00"), ptr.Deref(p.Port, -1), ptr.Deref(p.Protocol, "\x00"), appProtocolKey(p.AppProtocol))
	}
	return portsKey(b.String())
}

// endpointKey identifies an endpoint across syncs, as upstream's hash: its
// addresses, hostname and target. Conditions, node and zone may change in
// place.
type endpointKey string

func keyOfEndpoint(ep *discoveryv1.Endpoint) endpointKey {
	addrs := slices.Clone(ep.Addresses)
	slices.Sort(addrs)
	var ns, name string
	if ep.TargetRef != nil {
		ns, name = ep.TargetRef.Namespace, ep.TargetRef.Name
	}
	return endpointKey(strings.Join(addrs, ",") + "|" + ptr.Deref(ep.Hostname, "") + "|" + ns + "/" + name)
}

// endpointSet is a set of endpoints by key. Pop takes them in key order so
// that slices fill reproducibly.
type endpointSet map[endpointKey]*discoveryv1.Endpoint

func (s endpointSet) pop() *discoveryv1.Endpoint {
	if len(s) == 0 {
		return nil
	}
	var first endpointKey
	for k := range s {
		if first == "" || k < first {
			first = k
		}
	}
	ep := s[first]
	delete(s, first)
	return ep
}

// endpointEqual reports whether two endpoints of the same key are equal in
// what the key leaves out: node, zone, conditions and target (its
// resourceVersion ignored).
func endpointEqual(a, b *discoveryv1.Endpoint) bool {
	refEqual := func(x, y *corev1.ObjectReference) bool {
		if x == nil || y == nil {
			return x == y
		}
		xc, yc := *x, *y
		xc.ResourceVersion, yc.ResourceVersion = "", ""
		return xc == yc
	}
	return ptr.Equal(a.NodeName, b.NodeName) && ptr.Equal(a.Zone, b.Zone) &&
		ptr.Equal(a.Conditions.Ready, b.Conditions.Ready) && ptr.Equal(a.Conditions.Serving, b.Conditions.Serving) &&
		ptr.Equal(a.Conditions.Terminating, b.Conditions.Terminating) && refEqual(a.TargetRef, b.TargetRef)
}

// addressTypes returns the address types of svc's slices: one per IP
// family in spec.ipFamilies; without them (an old apiserver), the cluster
// IP's family, or both families for a headless Service.
func addressTypes(svc *corev1.Service) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	for _, f := range svc.Spec.IPFamilies {
		switch f {
		case corev1.IPv4Protocol:
			out = append(out, discoveryv1.AddressTypeIPv4)
		case corev1.IPv6Protocol:
			out = append(out, discoveryv1.AddressTypeIPv6)
		}
	}
	if len(out) > 0 {
		slices.Sort(out)
		return slices.Compact(out)
	}
	if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		if endpoints.IsIPv6String(ip) {
			return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv6}
		}
		return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
	}
	return []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6}
}

// newSlice returns an empty slice of svc for ports and addressType: named
// "<service>-" plus the apiserver's random suffix, labelled and owned by
// svc.
func newSlice(svc *corev1.Service, ports []discoveryv1.EndpointPort, addressType discoveryv1.AddressType) *discoveryv1.EndpointSlice {
	prefix := svc.Name + "-"
	if len(apimachineryvalidation.NameIsDNSSubdomain(prefix, true)) != 0 {
		prefix = svc.Name
	}
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       svc.Namespace,
			GenerateName:    prefix,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(svc, schema.GroupVersionKind{Version: "v1", Kind: "Service"})},
		},
		AddressType: addressType,
		Ports:       ports,
		Endpoints:   []discoveryv1.Endpoint{},
	}
	s.Labels, _ = sliceLabels(s, svc)
	return s
}

// ownedBy reports whether slice's owner references name svc (by uid).
func ownedBy(slice *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	for _, o := range slice.OwnerReferences {
		if o.UID == svc.UID && o.Kind == "Service" && o.APIVersion == "v1" {
			return true
		}
	}
	return false
}

// reservedLabel reports whether key is one of the labels the controller
// sets itself rather than copying from the Service.
func reservedLabel(key string) bool {
	return key == discoveryv1.LabelServiceName || key == discoveryv1.LabelManagedBy || key == corev1.IsHeadlessService
}

// sliceLabels returns the labels slice should carry — svc's own (but the
// reserved ones), kubernetes.io/service-name, endpointslice.kubernetes.io/managed-by
// and service.kubernetes.io/headless for a Service without a cluster IP —
// and whether svc's own labels differ from those slice carries (the
// reserved labels are not compared, as upstream).
func sliceLabels(slice *discoveryv1.EndpointSlice, svc *corev1.Service) (map[string]string, bool) {
	have, want := map[string]string{}, map[string]string{}
	for k, v := range slice.Labels {
		if !reservedLabel(k) {
			have[k] = v
		}
	}
	for k, v := range svc.Labels {
		if !reservedLabel(k) {
			want[k] = v
		}
	}
	changed := len(have) != len(want)
	for k, v := range want {
		if w, ok := have[k]; !ok || w != v {
			changed = true
		}
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone || svc.Spec.ClusterIP == "" {
		want[corev1.IsHeadlessService] = ""
	}
	want[discoveryv1.LabelServiceName] = svc.Name
	want[discoveryv1.LabelManagedBy] = ControllerName
	return want, changed
}

// serviceKeyOf returns the key of the Service a slice belongs to (by its
// service-name label).
func serviceKeyOf(slice *discoveryv1.EndpointSlice) (string, bool) {
	name := slice.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return "", false
	}
	return slice.Namespace + "/" + name, true
}
