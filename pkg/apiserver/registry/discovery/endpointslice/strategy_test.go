package endpointslice

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newSlice() *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-x7k2p", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{"10.244.1.2"},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To("kinc-worker"),
			Zone:       ptr.To("zone-a"),
			Hints:      &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}}, ForNodes: []discoveryv1.ForNode{{Name: "kinc-worker"}}},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080), AppProtocol: ptr.To("http")}},
	}
}

func created(mutate func(*discoveryv1.EndpointSlice)) (*discoveryv1.EndpointSlice, field.ErrorList) {
	s := newSlice()
	if mutate != nil {
		mutate(s)
	}
	st := NewStrategy()
	st.PrepareForCreate(context.Background(), s)
	return s, st.Validate(context.Background(), s)
}

func TestCreate(t *testing.T) {
	s, errs := created(func(s *discoveryv1.EndpointSlice) {
		s.Ports = append(s.Ports, discoveryv1.EndpointPort{Port: ptr.To[int32](53)})
		s.Endpoints[0].DeprecatedTopology = map[string]string{corev1.LabelHostname: "kinc-worker"}
	})
	Expect(t, errs)
	if s.Generation != 1 || *s.Ports[1].Name != "" || *s.Ports[1].Protocol != corev1.ProtocolTCP || *s.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("generation %d, ports %+v", s.Generation, s.Ports)
	}
	if s.Endpoints[0].DeprecatedTopology != nil {
		t.Errorf("deprecatedTopology kept: %v", s.Endpoints[0].DeprecatedTopology)
	}
}

func TestValidate(t *testing.T) {
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tests := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   []Err
	}{
		{"IPv6", func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeIPv6
			s.Endpoints[0].Addresses = []string{"fd00:10:244::2"}
		}, nil},
		{"FQDN", func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeFQDN
			s.Endpoints[0].Addresses = []string{"db.example.com"}
		}, nil},
		{"no address type", func(s *discoveryv1.EndpointSlice) { s.AddressType = "" }, []Err{E(field.ErrorTypeRequired, "addressType")}},
		{"unknown address type", func(s *discoveryv1.EndpointSlice) { s.AddressType = "IPX" }, []Err{E(field.ErrorTypeNotSupported, "addressType")}},
		{"no addresses", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = nil },
			[]Err{E(field.ErrorTypeRequired, "endpoints[0].addresses")}},
		{"101 addresses", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[0].Addresses = many(101, func(i int) string { return fmt.Sprintf("10.0.%d.%d", i/250, i%250+1) })
		}, []Err{E(field.ErrorTypeTooMany, "endpoints[0].addresses")}},
		{"1001 endpoints", func(s *discoveryv1.EndpointSlice) {
			for range 1000 {
				s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.1"}})
			}
		}, []Err{E(field.ErrorTypeTooMany, "endpoints")}},
		{"not an IP", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"web"} },
			[]Err{E(field.ErrorTypeInvalid, "endpoints[0].addresses[0]")}},
		{"leading zeros", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"010.1.2.3"} },
			[]Err{E(field.ErrorTypeInvalid, "endpoints[0].addresses[0]")}},
		{"IPv6 in an IPv4 slice", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"fd00::1"} },
			[]Err{E(field.ErrorTypeInvalid, "endpoints[0].addresses")}},
		{"IPv4 in an IPv6 slice", func(s *discoveryv1.EndpointSlice) { s.AddressType = discoveryv1.AddressTypeIPv6 },
			[]Err{E(field.ErrorTypeInvalid, "endpoints[0].addresses")}},
		{"loopback", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"127.0.0.1"} },
			[]Err{E(field.ErrorTypeInvalid, "endpoints[0].addresses[0]")}},
		{"bad FQDN", func(s *discoveryv1.EndpointSlice) {
			s.AddressType = discoveryv1.AddressTypeFQDN
			s.Endpoints[0].Addresses = []string{"Not_A_Name"}
		},
			[]Err{E(field.ErrorTypeInvalid, "endpoints[0].addresses[0]")}},
		{"bad node name and hostname", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[0].NodeName = ptr.To("Kinc_Worker")
			s.Endpoints[0].Hostname = ptr.To("web.0")
		}, []Err{E(field.ErrorTypeInvalid, "endpoints[0].nodeName"), E(field.ErrorTypeInvalid, "endpoints[0].hostname")}},
		{"hints", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[0].Hints.ForZones = []discoveryv1.ForZone{{Name: "a"}, {Name: "a"}, {Name: "bad zone"}}
			s.Endpoints[0].Hints.ForNodes = []discoveryv1.ForNode{{Name: "n"}, {Name: "n"}}
		}, []Err{E(field.ErrorTypeDuplicate, "endpoints[0].hints.forZones[1].name"), E(field.ErrorTypeInvalid, "endpoints[0].hints.forZones[2].name"),
			E(field.ErrorTypeDuplicate, "endpoints[0].hints.forNodes[1].name")}},
		{"nine zone hints", func(s *discoveryv1.EndpointSlice) {
			s.Endpoints[0].Hints.ForZones = nil
			for i := range 9 {
				s.Endpoints[0].Hints.ForZones = append(s.Endpoints[0].Hints.ForZones, discoveryv1.ForZone{Name: fmt.Sprint("z", i)})
			}
		}, []Err{E(field.ErrorTypeTooMany, "endpoints[0].hints.forZones")}},
		{"ports", func(s *discoveryv1.EndpointSlice) {
			s.Ports = []discoveryv1.EndpointPort{{Name: ptr.To("http")}, {Name: ptr.To("http")}, {Name: ptr.To("Bad_Name")},
				{Name: ptr.To("x"), Protocol: ptr.To[corev1.Protocol]("ICMP")}, {Name: ptr.To("y"), AppProtocol: ptr.To("a/b/c")}}
		}, []Err{E(field.ErrorTypeDuplicate, "ports[1].name"), E(field.ErrorTypeInvalid, "ports[2].name"),
			E(field.ErrorTypeNotSupported, "ports[3].protocol"), E(field.ErrorTypeInvalid, "ports[4].appProtocol")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := created(tc.mutate)
			Expect(t, errs, tc.want...)
		})
	}
}

func TestUpdate(t *testing.T) {
	old, errs := created(nil)
	Expect(t, errs)
	update := func(mutate func(*discoveryv1.EndpointSlice)) (*discoveryv1.EndpointSlice, field.ErrorList) {
		s := old.DeepCopy()
		mutate(s)
		st := NewStrategy()
		st.PrepareForUpdate(context.Background(), s, old)
		return s, st.ValidateUpdate(context.Background(), s, old)
	}
	s, errs := update(func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Conditions.Ready = ptr.To(false) })
	Expect(t, errs)
	if s.Generation != 2 {
		t.Errorf("generation %d after an endpoint change", s.Generation)
	}
	s, _ = update(func(s *discoveryv1.EndpointSlice) { s.Labels["x"] = "y" })
	if s.Generation != 2 {
		t.Errorf("generation %d after a label change", s.Generation)
	}
	s, _ = update(func(s *discoveryv1.EndpointSlice) { s.Annotations = map[string]string{"x": "y"} })
	if s.Generation != 1 {
		t.Errorf("generation %d after an annotation change", s.Generation)
	}
	_, errs = update(func(s *discoveryv1.EndpointSlice) {
		s.AddressType = discoveryv1.AddressTypeIPv6
		s.Endpoints[0].Addresses = []string{"fd00::2"}
	})
	Expect(t, errs, E(field.ErrorTypeInvalid, "addressType"))

	// Stored endpoints that newer rules refuse stay as long as they are
	// not changed.
	stored := old.DeepCopy()
	stored.Endpoints[0].Addresses = []string{"127.0.0.1"}
	stored.Endpoints[0].DeprecatedTopology = map[string]string{corev1.LabelHostname: "kinc-worker"}
	s = stored.DeepCopy()
	s.Ports[0].Port = ptr.To[int32](9090)
	NewStrategy().PrepareForUpdate(context.Background(), s, stored)
	Expect(t, NewStrategy().ValidateUpdate(context.Background(), s, stored))
	if s.Endpoints[0].DeprecatedTopology == nil {
		t.Error("deprecatedTopology of unchanged endpoints dropped")
	}
	// Changed endpoints lose deprecatedTopology; its hostname becomes the
	// nodeName of an endpoint without one.
	s = stored.DeepCopy()
	s.Endpoints[0].Addresses = []string{"10.244.1.9"}
	s.Endpoints[0].NodeName = nil
	NewStrategy().PrepareForUpdate(context.Background(), s, stored)
	Expect(t, NewStrategy().ValidateUpdate(context.Background(), s, stored))
	if s.Endpoints[0].DeprecatedTopology != nil || ptr.Deref(s.Endpoints[0].NodeName, "") != "kinc-worker" {
		t.Errorf("endpoint after update: %+v", s.Endpoints[0])
	}
}
