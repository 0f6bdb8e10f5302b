package printers

import (
	"testing"
	"time"

	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestPrintPodDisruptionBudget(t *testing.T) {
	tests := []struct {
		name string
		obj  runtime.Object
		want []interface{}
	}{
		{"minAvailable", &policyv1.PodDisruptionBudget{ObjectMeta: objMeta("web", time.Hour),
			Spec:   policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2))},
			Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}},
			[]interface{}{"web", "2", "N/A", int64(1), "60m"}},
		{"maxUnavailable percent", &policyv1.PodDisruptionBudget{ObjectMeta: objMeta("db", time.Minute),
			Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromString("25%"))}},
			[]interface{}{"db", "N/A", "25%", int64(0), "60s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, tc.obj, tc.want) })
	}
}
