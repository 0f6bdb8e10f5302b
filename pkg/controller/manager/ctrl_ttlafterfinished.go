package manager

import (
	"context"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/ttlafterfinished"
)

// newTTLAfterFinishedController is upstream's
// ttl-after-finished-controller, with --concurrent-ttl-after-finished-syncs
// workers. It records no events, as upstream's.
func newTTLAfterFinishedController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("ttl-after-finished-controller")
	if err != nil {
		return nil, err
	}
	return ttlafterfinished.New(client, cc.InformerFactory.Batch().V1().Jobs(),
		ttlafterfinished.Options{Logger: cc.Logger, Clock: cc.Clock}), nil
}
