package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/daemonset"
)

// newDaemonSetController is upstream's daemonset-controller, with
// --concurrent-daemonset-syncs workers; its events come from
// "daemonset-controller".
func newDaemonSetController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("daemon-set-controller")
	if err != nil {
		return nil, err
	}
	apps, core := cc.InformerFactory.Apps().V1(), cc.InformerFactory.Core().V1()
	return daemonset.New(client, apps.DaemonSets(), apps.ControllerRevisions(), core.Pods(), core.Nodes(),
		daemonset.Options{Logger: cc.Logger, Clock: cc.Clock,
			Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: daemonset.Component})})
}
