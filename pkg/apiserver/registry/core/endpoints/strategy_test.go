package endpoints

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		subset corev1.EndpointSubset
		want   []Err
	}{
		{"valid", corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{{IP: "10.244.0.5"}}, Ports: []corev1.EndpointPort{{Port: 80}}}, nil},
		{"no addresses", corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Port: 80}}}, []Err{E(field.ErrorTypeRequired, "subsets[0]")}},
		{"loopback", corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{{IP: "127.0.0.1"}}}, []Err{E(field.ErrorTypeInvalid, "subsets[0].addresses[0].ip")}},
		{"bad ip", corev1.EndpointSubset{NotReadyAddresses: []corev1.EndpointAddress{{IP: "x"}}},
			[]Err{E(field.ErrorTypeInvalid, "subsets[0].notReadyAddresses[0].ip"), E(field.ErrorTypeInvalid, "subsets[0].notReadyAddresses[0].ip")}},
		{"port names", corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}}, Ports: []corev1.EndpointPort{{Port: 80}, {Name: "b", Port: 0}}},
			[]Err{E(field.ErrorTypeRequired, "subsets[0].ports[0].name"), E(field.ErrorTypeInvalid, "subsets[0].ports[1].port")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{tc.subset}}
			NewStrategy().PrepareForCreate(context.Background(), ep)
			for _, p := range ep.Subsets[0].Ports {
				if p.Protocol != corev1.ProtocolTCP {
					t.Errorf("protocol not defaulted")
				}
			}
			Expect(t, NewStrategy().Validate(context.Background(), ep), tc.want...)
		})
	}
}
