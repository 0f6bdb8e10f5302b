// Package schedulertest builds Node and Pod objects for scheduler tests
// (unit and integration) with a fluent wrapper, like upstream's
// pkg/scheduler/testing.
package schedulertest

import (
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// NodeWrapper builds a Node.
type NodeWrapper struct{ v1.Node }

// MakeNode returns a node with 4 cpu, 16Gi memory, 100Gi ephemeral
// storage and 110 pods allocatable, and the kubernetes.io/hostname label.
func MakeNode(name string) *NodeWrapper {
	n := &NodeWrapper{v1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("node-" + name),
		Labels: map[string]string{v1.LabelHostname: name}}}}
	return n.Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "4", v1.ResourceMemory: "16Gi",
		v1.ResourceEphemeralStorage: "100Gi", v1.ResourcePods: "110"})
}

// Capacity sets capacity and allocatable (merged over what is there).
func (n *NodeWrapper) Capacity(res map[v1.ResourceName]string) *NodeWrapper {
	if n.Status.Capacity == nil {
		n.Status.Capacity, n.Status.Allocatable = v1.ResourceList{}, v1.ResourceList{}
	}
	for k, v := range res {
		n.Status.Capacity[k] = resource.MustParse(v)
		n.Status.Allocatable[k] = resource.MustParse(v)
	}
	return n
}

// Label sets a label.
func (n *NodeWrapper) Label(k, v string) *NodeWrapper {
	n.Labels[k] = v
	return n
}

// Taint adds a taint.
func (n *NodeWrapper) Taint(key, value string, effect v1.TaintEffect) *NodeWrapper {
	n.Spec.Taints = append(n.Spec.Taints, v1.Taint{Key: key, Value: value, Effect: effect})
	return n
}

// Unschedulable cordons the node.
func (n *NodeWrapper) Unschedulable() *NodeWrapper {
	n.Spec.Unschedulable = true
	return n
}

// Ready adds the Ready=True condition.
func (n *NodeWrapper) Ready() *NodeWrapper {
	n.Status.Conditions = append(n.Status.Conditions, v1.NodeCondition{Type: v1.NodeReady, Status: v1.ConditionTrue})
	return n
}

// Obj returns the node.
func (n *NodeWrapper) Obj() *v1.Node { return &n.Node }

// PodWrapper builds a Pod.
type PodWrapper struct{ v1.Pod }

// MakePod returns a pod for "default-scheduler" with one container "c".
func MakePod(ns, name string) *PodWrapper {
	return &PodWrapper{v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "-" + name), Labels: map[string]string{}},
		Spec: v1.PodSpec{SchedulerName: "default-scheduler",
			Containers: []v1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
	}}
}

func resources(res map[v1.ResourceName]string) v1.ResourceList {
	rl := v1.ResourceList{}
	for k, v := range res {
		rl[k] = resource.MustParse(v)
	}
	return rl
}

// Req adds a container with these requests (and equal limits for
// extended resources, which validation requires).
func (p *PodWrapper) Req(res map[v1.ResourceName]string) *PodWrapper {
	c := v1.Container{Name: "c" + string(rune('a'+len(p.Spec.Containers))), Image: "registry.k8s.io/pause:3.10",
		Resources: v1.ResourceRequirements{Requests: resources(res)}}
	for k, v := range c.Resources.Requests {
		if strings.Contains(string(k), "/") {
			if c.Resources.Limits == nil {
				c.Resources.Limits = v1.ResourceList{}
			}
			c.Resources.Limits[k] = v
		}
	}
	if len(p.Spec.Containers) == 1 && p.Spec.Containers[0].Resources.Requests == nil && len(p.Spec.Containers[0].Ports) == 0 {
		c.Name = "c"
		p.Spec.Containers[0] = c
		return p
	}
	p.Spec.Containers = append(p.Spec.Containers, c)
	return p
}

// InitReq adds an init container with these requests; sidecar makes it a
// restartable (restartPolicy: Always) init container.
func (p *PodWrapper) InitReq(res map[v1.ResourceName]string, sidecar bool) *PodWrapper {
	c := v1.Container{Name: "init" + string(rune('a'+len(p.Spec.InitContainers))), Image: "registry.k8s.io/pause:3.10",
		Resources: v1.ResourceRequirements{Requests: resources(res)}}
	if sidecar {
		always := v1.ContainerRestartPolicyAlways
		c.RestartPolicy = &always
	}
	p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	return p
}

// Overhead sets spec.overhead.
func (p *PodWrapper) Overhead(res map[v1.ResourceName]string) *PodWrapper {
	p.Spec.Overhead = resources(res)
	return p
}

// HostPort adds a host port to the first container.
func (p *PodWrapper) HostPort(port int32, protocol v1.Protocol, ip string) *PodWrapper {
	p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports,
		v1.ContainerPort{ContainerPort: port, HostPort: port, Protocol: protocol, HostIP: ip})
	return p
}

// Label sets a label.
func (p *PodWrapper) Label(k, v string) *PodWrapper {
	p.Labels[k] = v
	return p
}

// SchedulerName sets spec.schedulerName.
func (p *PodWrapper) SchedulerName(s string) *PodWrapper {
	p.Spec.SchedulerName = s
	return p
}

// Node sets spec.nodeName (a bound pod).
func (p *PodWrapper) Node(name string) *PodWrapper {
	p.Spec.NodeName = name
	return p
}

// Priority sets spec.priority.
func (p *PodWrapper) Priority(v int32) *PodWrapper {
	p.Spec.Priority = &v
	return p
}

// NodeSelector sets spec.nodeSelector.
func (p *PodWrapper) NodeSelector(m map[string]string) *PodWrapper {
	p.Spec.NodeSelector = m
	return p
}

// Toleration adds a toleration.
func (p *PodWrapper) Toleration(key string, op v1.TolerationOperator, value string, effect v1.TaintEffect) *PodWrapper {
	p.Spec.Tolerations = append(p.Spec.Tolerations, v1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	return p
}

func (p *PodWrapper) affinity() *v1.Affinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &v1.Affinity{}
	}
	return p.Spec.Affinity
}

// RequiredNodeAffinity adds a required node selector term.
func (p *PodWrapper) RequiredNodeAffinity(reqs ...v1.NodeSelectorRequirement) *PodWrapper {
	a := p.affinity()
	if a.NodeAffinity == nil {
		a.NodeAffinity = &v1.NodeAffinity{}
	}
	if a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &v1.NodeSelector{}
	}
	ns := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	ns.NodeSelectorTerms = append(ns.NodeSelectorTerms, v1.NodeSelectorTerm{MatchExpressions: reqs})
	return p
}

// PreferredNodeAffinity adds a preferred node selector term.
func (p *PodWrapper) PreferredNodeAffinity(weight int32, reqs ...v1.NodeSelectorRequirement) *PodWrapper {
	a := p.affinity()
	if a.NodeAffinity == nil {
		a.NodeAffinity = &v1.NodeAffinity{}
	}
	a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
		v1.PreferredSchedulingTerm{Weight: weight, Preference: v1.NodeSelectorTerm{MatchExpressions: reqs}})
	return p
}

// PodAffinity adds a pod (anti-)affinity term selecting pods with label
// key=value across topologyKey; weight 0 makes it required.
func (p *PodWrapper) PodAffinity(anti bool, weight int32, topologyKey, key, value string) *PodWrapper {
	a := p.affinity()
	term := v1.PodAffinityTerm{TopologyKey: topologyKey,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}}
	if anti {
		if a.PodAntiAffinity == nil {
			a.PodAntiAffinity = &v1.PodAntiAffinity{}
		}
		if weight == 0 {
			a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, term)
		} else {
			a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
				v1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: term})
		}
		return p
	}
	if a.PodAffinity == nil {
		a.PodAffinity = &v1.PodAffinity{}
	}
	if weight == 0 {
		a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, term)
	} else {
		a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
			v1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: term})
	}
	return p
}

// SpreadConstraint adds a topology spread constraint over pods labelled
// key=value.
func (p *PodWrapper) SpreadConstraint(maxSkew int32, topologyKey string, when v1.UnsatisfiableConstraintAction, key, value string) *PodWrapper {
	p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, v1.TopologySpreadConstraint{
		MaxSkew: maxSkew, TopologyKey: topologyKey, WhenUnsatisfiable: when,
		LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{key: value}}})
	return p
}

// Terminating sets a deletion timestamp.
func (p *PodWrapper) Terminating() *PodWrapper {
	now := metav1.Now()
	p.DeletionTimestamp = &now
	return p
}

// Obj returns the pod.
func (p *PodWrapper) Obj() *v1.Pod { return &p.Pod }
