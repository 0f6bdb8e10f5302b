package manager

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/nodelifecycle"
	"github.com/kinc-dev/kinc/pkg/controller/podgc"
	"github.com/kinc-dev/kinc/pkg/controller/tainteviction"
)

// Upstream's worker counts (not flags): the node lifecycle controller's
// node update workers and the taint eviction controller's.
const (
	nodeLifecycleWorkers = 8
	taintEvictionWorkers = 8
)

// nodeLifecycleOptions returns the node-lifecycle-controller's options
// from the command line (Validate has checked them).
func (o *Options) nodeLifecycleOptions() nodelifecycle.Options {
	return nodelifecycle.Options{
		NodeMonitorPeriod:         o.NodeMonitorPeriod,
		NodeMonitorGracePeriod:    o.NodeMonitorGracePeriod,
		NodeStartupGracePeriod:    o.NodeStartupGracePeriod,
		NodeEvictionRate:          o.NodeEvictionRate,
		SecondaryNodeEvictionRate: o.SecondaryNodeEvictionRate,
		LargeClusterSizeThreshold: o.LargeClusterSizeThreshold,
		UnhealthyZoneThreshold:    o.UnhealthyZoneThreshold,
	}
}

// newNodeLifecycleController is upstream's node-lifecycle-controller, with
// --node-monitor-period, --node-monitor-grace-period,
// --node-startup-grace-period and the eviction rate flags. Its client is
// upstream's "node-controller" and its events come from "node-controller".
func newNodeLifecycleController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("node-controller")
	if err != nil {
		return nil, err
	}
	opts := cc.Options.nodeLifecycleOptions()
	opts.Recorder = cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: nodelifecycle.EventComponent})
	opts.Logger, opts.Clock = cc.Logger, cc.Clock
	f := cc.InformerFactory
	c, err := nodelifecycle.New(client, f.Coordination().V1().Leases(), f.Core().V1().Nodes(), f.Core().V1().Pods(), opts)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// newTaintEvictionController is upstream's taint-eviction-controller. Its
// client is upstream's "node-controller" (upstream gives it that role) and
// its events come from "taint-eviction-controller". Upstream runs it with
// 8 workers.
func newTaintEvictionController(_ context.Context, cc Context) (controller.Controller, error) {
	clk, ok := cc.Clock.(tainteviction.Clock)
	if !ok {
		return nil, fmt.Errorf("%s needs a clock with timers, got %T", tainteviction.Name, cc.Clock)
	}
	client, err := cc.NewClient("node-controller")
	if err != nil {
		return nil, err
	}
	f := cc.InformerFactory
	c, err := tainteviction.New(client, f.Core().V1().Nodes(), f.Core().V1().Pods(), tainteviction.Options{
		Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: tainteviction.Name}),
		Logger:   cc.Logger, Clock: clk,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// newPodGCController is upstream's pod-garbage-collector-controller with
// --terminated-pod-gc-threshold; its client is upstream's
// "pod-garbage-collector".
func newPodGCController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("pod-garbage-collector")
	if err != nil {
		return nil, err
	}
	f := cc.InformerFactory
	return podgc.New(client, f.Core().V1().Pods(), f.Core().V1().Nodes(), podgc.Options{
		TerminatedPodGCThreshold: int(cc.Options.TerminatedPodGCThreshold), Logger: cc.Logger, Clock: cc.Clock,
	}), nil
}
