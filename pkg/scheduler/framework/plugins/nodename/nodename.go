// Package nodename is the NodeName filter: a pod that names a node in
// spec.nodeName fits only there.
package nodename

import (
	"context"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

// Name is the plugin's name.
const Name = "NodeName"

// ErrReason is upstream's reason.
const ErrReason = "node(s) didn't match the requested node name"

// NodeName is the plugin.
type NodeName struct{}

var _ framework.FilterPlugin = NodeName{}

// New returns the plugin.
func New(framework.Handle) (framework.Plugin, error) { return NodeName{}, nil }

// Name returns Name.
func (NodeName) Name() string { return Name }

// Filter passes when the pod names no node or names this one.
func (NodeName) Filter(_ context.Context, _ *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if pod.Spec.NodeName == "" || pod.Spec.NodeName == nodeInfo.Node().Name {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
}
