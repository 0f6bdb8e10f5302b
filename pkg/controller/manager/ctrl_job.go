package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/job"
)

// newJobController is upstream's job-controller, with
// --concurrent-job-syncs workers; its events come from "job-controller".
func newJobController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("job-controller")
	if err != nil {
		return nil, err
	}
	return job.New(client, cc.InformerFactory.Batch().V1().Jobs(), cc.InformerFactory.Core().V1().Pods(),
		job.Options{Logger: cc.Logger, Clock: cc.Clock,
			Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: job.Component})})
}
