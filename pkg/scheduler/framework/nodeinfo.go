package framework

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
)

// NodeInfo is a node and the pods the scheduler counts on it (bound and
// assumed), with their aggregate requests and host ports. The cache owns
// the live NodeInfos; plugins see clones in a Snapshot and must not change
// them.
type NodeInfo struct {
	node *v1.Node
	// Pods are all pods on the node; PodsWithAffinity those with any pod
	// (anti-)affinity; PodsWithRequiredAntiAffinity those with required
	// anti-affinity terms.
	Pods                         []*PodInfo
	PodsWithAffinity             []*PodInfo
	PodsWithRequiredAntiAffinity []*PodInfo
	UsedPorts                    HostPortInfo
	// Requested sums the pods' requests; NonZeroRequested their
	// PodNonZeroRequests (cpu and memory only).
	Requested        *Resource
	NonZeroRequested *Resource
	Allocatable      *Resource
	// Generation increases with every change; the cache sets it.
	Generation int64
}

// NewNodeInfo returns an empty NodeInfo with the given pods.
func NewNodeInfo(pods ...*v1.Pod) *NodeInfo {
	n := &NodeInfo{Requested: &Resource{}, NonZeroRequested: &Resource{}, Allocatable: &Resource{}, UsedPorts: HostPortInfo{}}
	for _, p := range pods {
		n.AddPodInfo(NewPodInfo(p))
	}
	return n
}

// Node returns the node, or nil when only pods are known so far.
func (n *NodeInfo) Node() *v1.Node { return n.node }

// SetNode sets the node and its allocatable resources.
func (n *NodeInfo) SetNode(node *v1.Node) {
	n.node = node
	n.Allocatable = NewResource(node.Status.Allocatable)
}

// RemoveNode forgets the node but keeps its pods.
func (n *NodeInfo) RemoveNode() { n.node = nil }

// AddPodInfo counts a pod on the node.
func (n *NodeInfo) AddPodInfo(pi *PodInfo) {
	n.Pods = append(n.Pods, pi)
	if hasAffinity(pi) {
		n.PodsWithAffinity = append(n.PodsWithAffinity, pi)
	}
	if len(pi.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, pi)
	}
	n.update(pi, 1)
}

// RemovePod stops counting the pod with pod's UID; it errors when the pod
// is not on the node.
func (n *NodeInfo) RemovePod(pod *v1.Pod) error {
	n.PodsWithAffinity = removeFrom(n.PodsWithAffinity, pod)
	n.PodsWithRequiredAntiAffinity = removeFrom(n.PodsWithRequiredAntiAffinity, pod)
	for i, pi := range n.Pods {
		if pi.Pod.UID == pod.UID {
			n.Pods[i] = n.Pods[len(n.Pods)-1]
			n.Pods[len(n.Pods)-1] = nil
			n.Pods = n.Pods[:len(n.Pods)-1]
			n.update(pi, -1)
			return nil
		}
	}
	nodeName := ""
	if n.node != nil {
		nodeName = n.node.Name
	}
	return fmt.Errorf("no pod %s/%s on node %q", pod.Namespace, pod.Name, nodeName)
}

func (n *NodeInfo) update(pi *PodInfo, sign int64) {
	if sign > 0 {
		n.Requested.AddResource(pi.Requests)
	} else {
		n.Requested.SubResource(pi.Requests)
	}
	n.NonZeroRequested.MilliCPU += sign * pi.NonZeroCPU
	n.NonZeroRequested.Memory += sign * pi.NonZeroMemory
	for _, port := range HostPorts(pi.Pod) {
		if sign > 0 {
			n.UsedPorts.Add(port.HostIP, string(port.Protocol), port.HostPort)
		} else {
			n.UsedPorts.Remove(port.HostIP, string(port.Protocol), port.HostPort)
		}
	}
}

func removeFrom(list []*PodInfo, pod *v1.Pod) []*PodInfo {
	for i, pi := range list {
		if pi.Pod.UID == pod.UID {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			return list[:len(list)-1]
		}
	}
	return list
}

func hasAffinity(pi *PodInfo) bool {
	a := pi.Pod.Spec.Affinity
	return a != nil && (a.PodAffinity != nil || a.PodAntiAffinity != nil)
}

// Clone returns a copy that shares the (immutable) node and PodInfos.
func (n *NodeInfo) Clone() *NodeInfo {
	return &NodeInfo{
		node:                         n.node,
		Pods:                         append([]*PodInfo(nil), n.Pods...),
		PodsWithAffinity:             append([]*PodInfo(nil), n.PodsWithAffinity...),
		PodsWithRequiredAntiAffinity: append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...),
		UsedPorts:                    n.UsedPorts.Clone(),
		Requested:                    n.Requested.Clone(),
		NonZeroRequested:             n.NonZeroRequested.Clone(),
		Allocatable:                  n.Allocatable.Clone(),
		Generation:                   n.Generation,
	}
}

// HostPorts returns the container ports of a pod that claim a host port.
func HostPorts(pod *v1.Pod) []v1.ContainerPort {
	var out []v1.ContainerPort
	add := func(cs []v1.Container) {
		for i := range cs {
			for _, p := range cs[i].Ports {
				if p.HostPort > 0 {
					out = append(out, p)
				}
			}
		}
	}
	add(pod.Spec.InitContainers)
	add(pod.Spec.Containers)
	return out
}
