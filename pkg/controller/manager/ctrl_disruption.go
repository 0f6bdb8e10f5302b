package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/disruption"
)

// newDisruptionController is upstream's disruption-controller (client
// "disruption-controller", events from "controllermanager" as upstream's),
// with upstream's default of one worker (--concurrent-disruption-syncs).
func newDisruptionController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("disruption-controller")
	if err != nil {
		return nil, err
	}
	f := cc.InformerFactory
	return disruption.New(client, f.Core().V1().Pods(), f.Policy().V1().PodDisruptionBudgets(), f.Apps().V1().ReplicaSets(),
		f.Apps().V1().Deployments(), f.Apps().V1().StatefulSets(),
		disruption.Options{Logger: cc.Logger, Clock: cc.Clock,
			Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: disruption.Component})}), nil
}
