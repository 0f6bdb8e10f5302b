package lease

import (
	"context"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		spec coordinationv1.LeaseSpec
		want []Err
	}{
		{"node heartbeat", coordinationv1.LeaseSpec{HolderIdentity: ptr.To("kinc-worker"), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: ptr.To(metav1.NowMicro())}, nil},
		{"zero duration", coordinationv1.LeaseSpec{LeaseDurationSeconds: ptr.To[int32](0)}, []Err{E(field.ErrorTypeInvalid, "spec.leaseDurationSeconds")}},
		{"negative transitions", coordinationv1.LeaseSpec{LeaseTransitions: ptr.To[int32](-1)}, []Err{E(field.ErrorTypeInvalid, "spec.leaseTransitions")}},
		{"preferredHolder without strategy", coordinationv1.LeaseSpec{PreferredHolder: ptr.To("x")}, []Err{E(field.ErrorTypeForbidden, "spec.preferredHolder")}},
		{"unknown strategy", coordinationv1.LeaseSpec{Strategy: ptr.To(coordinationv1.CoordinatedLeaseStrategy("Newest"))},
			[]Err{E(field.ErrorTypeNotSupported, "spec.strategy.strategy")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "n", Namespace: "kube-node-lease"}, Spec: tc.spec}
			Expect(t, NewStrategy().Validate(context.Background(), l), tc.want...)
			Expect(t, NewStrategy().ValidateUpdate(context.Background(), l, l), tc.want...)
		})
	}
}
