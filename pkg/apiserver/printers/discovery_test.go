package printers

import (
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func TestPrintEndpointSlice(t *testing.T) {
	ep := func(addrs ...string) discoveryv1.Endpoint { return discoveryv1.Endpoint{Addresses: addrs} }
	tests := []struct {
		name string
		obj  runtime.Object
		want []interface{}
	}{
		{"kubernetes", &discoveryv1.EndpointSlice{ObjectMeta: objMeta("kubernetes", time.Hour), AddressType: discoveryv1.AddressTypeIPv4,
			Ports:     []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To[int32](6443)}},
			Endpoints: []discoveryv1.Endpoint{ep("172.18.0.2")}},
			[]interface{}{"kubernetes", "IPv4", "6443", "172.18.0.2", "60m"}},
		{"more than three", &discoveryv1.EndpointSlice{ObjectMeta: objMeta("web-x7k2p", time.Minute), AddressType: discoveryv1.AddressTypeIPv4,
			Ports:     []discoveryv1.EndpointPort{{Port: ptr.To[int32](80)}, {Name: ptr.To("metrics")}, {}, {Port: ptr.To[int32](9090)}},
			Endpoints: []discoveryv1.Endpoint{ep("10.244.1.2", "10.244.1.3"), ep("10.244.2.2"), ep("10.244.3.2", "10.244.3.3")}},
			[]interface{}{"web-x7k2p", "IPv4", "80,metrics,* + 1 more...", "10.244.1.2,10.244.1.3,10.244.2.2 + 2 more...", "60s"}},
		{"empty", &discoveryv1.EndpointSlice{ObjectMeta: objMeta("none", time.Minute), AddressType: discoveryv1.AddressTypeIPv6},
			[]interface{}{"none", "IPv6", "<unset>", "<unset>", "60s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, tc.obj, tc.want) })
	}
}
