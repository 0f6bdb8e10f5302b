package manager

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/nodeipam"
)

// newNodeIPAMController is upstream's node-ipam-controller with its range
// allocator: with --allocate-node-cidrs it gives Nodes pod ranges of
// --node-cidr-mask-size from --cluster-cidr, outside
// --service-cluster-ip-range; without it, it has nothing to do and is
// skipped, as upstream. Its client is upstream's "node-controller", its
// events come from "cidrAllocator", and it runs upstream's 30 workers.
func newNodeIPAMController(_ context.Context, cc Context) (controller.Controller, error) {
	o := cc.Options
	if !o.AllocateNodeCIDRs {
		return nil, nil
	}
	clusterCIDRs, err := prefixesOf("--cluster-cidr", o.ClusterCIDR)
	if err != nil {
		return nil, err
	}
	serviceCIDRs, err := prefixesOf("--service-cluster-ip-range", o.ServiceClusterIPRange)
	if err != nil {
		return nil, err
	}
	client, err := cc.NewClient("node-controller")
	if err != nil {
		return nil, err
	}
	c, err := nodeipam.New(client, cc.InformerFactory.Core().V1().Nodes(), nodeipam.Options{
		ClusterCIDRs: clusterCIDRs, ServiceCIDRs: serviceCIDRs, NodeCIDRMaskSize: int(o.NodeCIDRMaskSize),
		Recorder: cc.Events.NewRecorder(scheme.Scheme, corev1.EventSource{Component: nodeipam.EventComponent}),
		Logger:   cc.Logger, Clock: cc.Clock,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// prefixesOf parses a CIDR flag (Validate has checked it).
func prefixesOf(flag, value string) ([]netip.Prefix, error) {
	nets, err := parseCIDRs(flag, value)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Prefix, 0, len(nets))
	for _, n := range nets {
		p, err := netip.ParsePrefix(n.String())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		out = append(out, p)
	}
	return out, nil
}
