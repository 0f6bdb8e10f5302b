package poddisruptionbudget

import (
	"context"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newPDB() *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
}

func created(mutate func(*policyv1.PodDisruptionBudget)) (*policyv1.PodDisruptionBudget, field.ErrorList) {
	pdb := newPDB()
	if mutate != nil {
		mutate(pdb)
	}
	s := NewStrategy()
	s.PrepareForCreate(context.Background(), pdb)
	return pdb, s.Validate(context.Background(), pdb)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*policyv1.PodDisruptionBudget)
		want   []Err
		detail string
	}{
		{"maxUnavailable percent", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable, p.Spec.MaxUnavailable = nil, ptr.To(intstr.FromString("25%"))
		}, nil, ""},
		{"neither (match-all selector, AlwaysAllow)", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable, p.Spec.Selector = nil, &metav1.LabelSelector{}
			p.Spec.UnhealthyPodEvictionPolicy = ptr.To(policyv1.AlwaysAllow)
		}, nil, ""},
		{"both", func(p *policyv1.PodDisruptionBudget) { p.Spec.MaxUnavailable = ptr.To(intstr.FromInt32(1)) },
			[]Err{E(field.ErrorTypeInvalid, "spec")}, "minAvailable and maxUnavailable cannot be both set"},
		{"negative", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromInt32(-1)) },
			[]Err{E(field.ErrorTypeInvalid, "spec.minAvailable")}, "must be greater than or equal to 0"},
		{"over 100%", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable, p.Spec.MaxUnavailable = nil, ptr.To(intstr.FromString("150%"))
		}, []Err{E(field.ErrorTypeInvalid, "spec.maxUnavailable")}, "must not be greater than 100%"},
		{"not a percent", func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromString("half")) },
			[]Err{E(field.ErrorTypeInvalid, "spec.minAvailable")}, ""},
		{"bad selector", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.selector.matchExpressions[0].operator")}, ""},
		{"unknown eviction policy", func(p *policyv1.PodDisruptionBudget) {
			p.Spec.UnhealthyPodEvictionPolicy = ptr.To[policyv1.UnhealthyPodEvictionPolicyType]("Never")
		}, []Err{E(field.ErrorTypeNotSupported, "spec.unhealthyPodEvictionPolicy")}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := created(tc.mutate)
			Expect(t, errs, tc.want...)
			if tc.detail != "" && (len(errs) == 0 || errs[0].Detail != tc.detail) {
				t.Errorf("detail of %v, want %q", errs, tc.detail)
			}
		})
	}
}

func TestV1beta1Label(t *testing.T) {
	req := func(op metav1.LabelSelectorOperator) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: v1beta1Label, Operator: op}
	}
	pdb, _ := created(func(p *policyv1.PodDisruptionBudget) {
		p.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{req(metav1.LabelSelectorOpDoesNotExist)}
	})
	if len(pdb.Spec.Selector.MatchExpressions) != 0 {
		t.Errorf("v1beta1 key kept: %+v", pdb.Spec.Selector)
	}
	none, _ := created(func(p *policyv1.PodDisruptionBudget) {
		p.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{req(metav1.LabelSelectorOpExists)}}
	})
	if len(none.Spec.Selector.MatchExpressions) != 1 {
		t.Errorf("match-none selector changed: %+v", none.Spec.Selector)
	}
}

func TestUpdate(t *testing.T) {
	old, errs := created(func(p *policyv1.PodDisruptionBudget) { p.Status.DisruptionsAllowed = 5 })
	Expect(t, errs)
	if old.Generation != 1 || old.Status.DisruptionsAllowed != 0 {
		t.Fatalf("created: generation %d, status %+v", old.Generation, old.Status)
	}
	old.Status.ExpectedPods = 3
	s := NewStrategy()

	pdb := old.DeepCopy()
	pdb.Spec.MinAvailable = ptr.To(intstr.FromInt32(2))
	pdb.Status.ExpectedPods = 0
	s.PrepareForUpdate(context.Background(), pdb, old)
	Expect(t, s.ValidateUpdate(context.Background(), pdb, old))
	if pdb.Generation != 2 || pdb.Status.ExpectedPods != 3 {
		t.Errorf("after a spec update: generation %d, status %+v", pdb.Generation, pdb.Status)
	}

	// A stored selector with a value today's rules refuse may stay.
	legacy := old.DeepCopy()
	legacy.Spec.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"web/legacy"}}}
	relabel := legacy.DeepCopy()
	relabel.Labels = map[string]string{"a": "b"}
	s.PrepareForUpdate(context.Background(), relabel, legacy)
	Expect(t, s.ValidateUpdate(context.Background(), relabel, legacy))
	_, errs = created(func(p *policyv1.PodDisruptionBudget) { p.Spec.Selector = legacy.Spec.Selector })
	Expect(t, errs, E(field.ErrorTypeInvalid, "spec.selector.matchExpressions[0].values[0]"))

	st := old.DeepCopy()
	st.Spec.MinAvailable = ptr.To(intstr.FromInt32(9))
	st.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 1, DisruptionsAllowed: 1, CurrentHealthy: 2, DesiredHealthy: 1, ExpectedPods: 2,
		Conditions: []metav1.Condition{{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionTrue, Reason: policyv1.SufficientPodsReason,
			LastTransitionTime: metav1.Now()}}}
	ss := NewStatusStrategy()
	ss.PrepareForUpdate(context.Background(), st, old)
	Expect(t, ss.ValidateUpdate(context.Background(), st, old))
	if st.Spec.MinAvailable.IntVal != 1 || st.Generation != 1 {
		t.Errorf("status update changed spec or generation: %+v, %d", st.Spec, st.Generation)
	}
	bad := st.DeepCopy()
	bad.Status.DisruptionsAllowed = -1
	bad.Status.Conditions[0].Reason = ""
	Expect(t, ss.ValidateUpdate(context.Background(), bad, old),
		E(field.ErrorTypeInvalid, "status.disruptionsAllowed"), E(field.ErrorTypeRequired, "status.conditions[0].reason"))
}
