package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/deployment"
)

// newDeploymentController is upstream's deployment-controller, with
// --concurrent-deployment-syncs workers; its events come from
// "deployment-controller".
func newDeploymentController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("deployment-controller")
	if err != nil {
		return nil, err
	}
	apps := cc.InformerFactory.Apps().V1()
	return deployment.New(client, apps.Deployments(), apps.ReplicaSets(), cc.InformerFactory.Core().V1().Pods(),
		deployment.Options{Logger: cc.Logger, Clock: cc.Clock,
			Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: deployment.Component})})
}
