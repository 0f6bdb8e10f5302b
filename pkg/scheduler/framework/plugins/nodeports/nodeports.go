// Package nodeports is the NodePorts filter: a pod's host ports must not
// collide with host ports already used on the node (same protocol and
// port, on the same IP or where either side binds 0.0.0.0).
package nodeports

import (
	"context"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodePorts"

// ErrReason is upstream's reason.
const ErrReason = "node(s) didn't have free ports for the requested pod ports"

const preFilterStateKey framework.StateKey = "PreFilter" + Name

// NodePorts is the plugin.
type NodePorts struct{}

var (
	_ framework.PreFilterPlugin = NodePorts{}
	_ framework.FilterPlugin    = NodePorts{}
)

// New returns the plugin.
func New(framework.Handle) (framework.Plugin, error) { return NodePorts{}, nil }

// Name returns Name.
func (NodePorts) Name() string { return Name }

type preFilterState []v1.ContainerPort

func (s preFilterState) Clone() framework.StateData { return s }

// PreFilter collects the pod's host ports, skipping Filter when there are none.
func (NodePorts) PreFilter(_ context.Context, state *framework.CycleState, pod *v1.Pod) *framework.Status {
	ports := framework.HostPorts(pod)
	if len(ports) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(preFilterStateKey, preFilterState(ports))
	return nil
}

// Filter rejects the node when a wanted host port is in use.
func (NodePorts) Filter(_ context.Context, state *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	var ports []v1.ContainerPort
	if d, err := state.Read(preFilterStateKey); err == nil {
		ports = d.(preFilterState)
	} else {
		ports = framework.HostPorts(pod)
	}
	for _, p := range ports {
		if nodeInfo.UsedPorts.CheckConflict(p.HostIP, string(p.Protocol), p.HostPort) {
			return framework.NewStatus(framework.Unschedulable, ErrReason)
		}
	}
	return nil
}
