package manager

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/endpoints"
	"github.com/kinc-dev/kinc/pkg/controller/endpointslice"
)

// newEndpointsController is upstream's endpoints-controller, with
// --concurrent-endpoint-syncs workers and --endpoint-updates-batch-period;
// its events come from "endpoint-controller".
func newEndpointsController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("endpoint-controller")
	if err != nil {
		return nil, err
	}
	core := cc.InformerFactory.Core().V1()
	return endpoints.New(client, core.Pods(), core.Services(), core.Endpoints(), endpoints.Options{
		BatchPeriod: cc.Options.EndpointUpdatesBatchPeriod,
		Recorder:    cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: endpoints.ControllerName}),
		Logger:      cc.Logger, Clock: cc.Clock,
	}), nil
}

// newEndpointSliceController is upstream's endpointslice-controller, with
// --concurrent-service-endpoint-syncs workers, --max-endpoints-per-slice
// and --endpointslice-updates-batch-period; its events come from
// "endpoint-slice-controller".
func newEndpointSliceController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("endpointslice-controller")
	if err != nil {
		return nil, err
	}
	core := cc.InformerFactory.Core().V1()
	return endpointslice.New(client, core.Pods(), core.Services(), core.Nodes(), cc.InformerFactory.Discovery().V1().EndpointSlices(),
		endpointslice.Options{
			MaxEndpointsPerSlice: int(cc.Options.MaxEndpointsPerSlice),
			BatchPeriod:          cc.Options.EndpointSliceUpdatesBatchPeriod,
			Recorder:             cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: endpointslice.EventComponent}),
			Logger:               cc.Logger, Clock: cc.Clock,
		}), nil
}
