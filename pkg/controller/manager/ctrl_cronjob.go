package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/cronjob"
)

// newCronJobController is upstream's cronjob-controller, with
// --concurrent-cron-job-syncs workers; its events come from
// "cronjob-controller".
func newCronJobController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("cronjob-controller")
	if err != nil {
		return nil, err
	}
	return cronjob.New(client, cc.InformerFactory.Batch().V1().CronJobs(), cc.InformerFactory.Batch().V1().Jobs(),
		cronjob.Options{Logger: cc.Logger, Clock: cc.Clock,
			Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: cronjob.Component})})
}
