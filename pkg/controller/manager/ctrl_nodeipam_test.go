package manager

import (
	"context"
	"testing"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/controller/nodeipam"
)

// TestNodeIPAMControllerFollowsAllocateNodeCIDRs: skipped without
// --allocate-node-cidrs, as upstream; built from the CIDR flags with it.
func TestNodeIPAMControllerFollowsAllocateNodeCIDRs(t *testing.T) {
	cc := Context{
		InformerFactory: informers.NewSharedInformerFactory(fake.NewClientset(), 0),
		ClientBuilder:   func(string) (*rest.Config, error) { return &rest.Config{Host: "https://127.0.0.1:1"}, nil },
		Events:          record.NewBroadcaster(),
	}
	defer cc.Events.Shutdown()
	o := NewOptions()
	o.ClusterCIDR, o.ServiceClusterIPRange = "10.244.0.0/16", "10.96.0.0/16"
	cc.Options = o
	if c, err := newNodeIPAMController(context.Background(), cc); c != nil || err != nil {
		t.Errorf("without --allocate-node-cidrs: %v, %v", c, err)
	}
	o.AllocateNodeCIDRs = true
	c, err := newNodeIPAMController(context.Background(), cc)
	if err != nil || c == nil || c.Name() != nodeipam.Name {
		t.Fatalf("with --allocate-node-cidrs: %v, %v", c, err)
	}
	o.NodeCIDRMaskSize = 8
	if _, err := newNodeIPAMController(context.Background(), cc); err == nil {
		t.Error("a node CIDR mask bigger than the cluster CIDR: no error")
	}
}
