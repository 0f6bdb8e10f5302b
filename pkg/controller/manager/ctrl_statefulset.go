package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/statefulset"
)

// newStatefulSetController is upstream's statefulset-controller, with
// --concurrent-statefulset-syncs workers; its events come from
// "statefulset-controller".
func newStatefulSetController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("statefulset-controller")
	if err != nil {
		return nil, err
	}
	apps := cc.InformerFactory.Apps().V1()
	return statefulset.New(client, apps.StatefulSets(), apps.ControllerRevisions(), cc.InformerFactory.Core().V1().Pods(),
		statefulset.Options{Logger: cc.Logger, Clock: cc.Clock,
			Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: statefulset.Component})})
}
