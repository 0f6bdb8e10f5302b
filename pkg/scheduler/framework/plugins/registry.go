// Package plugins lists kinc's in-tree scheduler plugins.
package plugins

import (
	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/interpodaffinity"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/nodeaffinity"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/nodename"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/nodeports"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/noderesources"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/nodeunschedulable"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/podtopologyspread"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/tainttoleration"
)

// NewInTreeRegistry returns the factories of every in-tree plugin, by
// upstream name.
func NewInTreeRegistry() framework.Registry {
	return framework.Registry{
		nodeunschedulable.Name:               nodeunschedulable.New,
		nodename.Name:                        nodename.New,
		tainttoleration.Name:                 tainttoleration.New,
		nodeaffinity.Name:                    nodeaffinity.New,
		nodeports.Name:                       nodeports.New,
		noderesources.FitName:                noderesources.NewFit,
		noderesources.BalancedAllocationName: noderesources.NewBalancedAllocation,
		podtopologyspread.Name:               podtopologyspread.New,
		interpodaffinity.Name:                interpodaffinity.New,
	}
}
