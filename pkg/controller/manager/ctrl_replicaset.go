package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/replicaset"
)

// newReplicaSetController is upstream's replicaset-controller, with
// --concurrent-replicaset-syncs workers; its events come from
// "replicaset-controller".
func newReplicaSetController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("replicaset-controller")
	if err != nil {
		return nil, err
	}
	return replicaset.New(client, cc.InformerFactory.Apps().V1().ReplicaSets(), cc.InformerFactory.Core().V1().Pods(),
		replicaset.Options{Logger: cc.Logger, Clock: cc.Clock,
			Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: replicaset.Component})})
}
