package manager

import (
	"context"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/clusterroleaggregation"
)

// newClusterRoleAggregationController is upstream's
// clusterrole-aggregation-controller, with upstream's 5 workers.
func newClusterRoleAggregationController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("clusterrole-aggregation-controller")
	if err != nil {
		return nil, err
	}
	return clusterroleaggregation.New(client, cc.InformerFactory.Rbac().V1().ClusterRoles(),
		clusterroleaggregation.Options{Logger: cc.Logger, Clock: cc.Clock}), nil
}
