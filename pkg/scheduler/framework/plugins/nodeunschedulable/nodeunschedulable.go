// Package nodeunschedulable is the NodeUnschedulable filter: a cordoned
// node (spec.unschedulable) takes only pods that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint.
package nodeunschedulable

import (
	"context"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/helper"
)

// Name is the plugin's name.
const Name = "NodeUnschedulable"

// ErrReasonUnschedulable is upstream's reason.
const ErrReasonUnschedulable = "node(s) were unschedulable"

// NodeUnschedulable is the plugin.
type NodeUnschedulable struct{}

var _ framework.FilterPlugin = NodeUnschedulable{}

// New returns the plugin.
func New(framework.Handle) (framework.Plugin, error) { return NodeUnschedulable{}, nil }

// Name returns Name.
func (NodeUnschedulable) Name() string { return Name }

// Filter rejects a cordoned node unless the pod tolerates it.
func (NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, pod *v1.Pod, nodeInfo *framework.NodeInfo) *framework.Status {
	if !nodeInfo.Node().Spec.Unschedulable {
		return nil
	}
	taint := &v1.Taint{Key: v1.TaintNodeUnschedulable, Effect: v1.TaintEffectNoSchedule}
	if helper.TolerationsTolerateTaint(pod.Spec.Tolerations, taint) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonUnschedulable)
}
