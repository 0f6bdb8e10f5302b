package helper

import (
	"testing"

	v1 "k8s.io/api/core/v1"

	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func TestRequirementMatches(t *testing.T) {
	t.Parallel()
	labels := map[string]string{"zone": "a", "gen": "5", "bad": "x"}
	req := func(key string, op v1.NodeSelectorOperator, vals ...string) v1.NodeSelectorRequirement {
		return v1.NodeSelectorRequirement{Key: key, Operator: op, Values: vals}
	}
	tests := []struct {
		name    string
		r       v1.NodeSelectorRequirement
		want    bool
		wantErr bool
	}{
		{"In match", req("zone", v1.NodeSelectorOpIn, "a", "b"), true, false},
		{"In no match", req("zone", v1.NodeSelectorOpIn, "b"), false, false},
		{"In missing label", req("other", v1.NodeSelectorOpIn, "a"), false, false},
		{"In without values", req("zone", v1.NodeSelectorOpIn), false, true},
		{"NotIn match", req("zone", v1.NodeSelectorOpNotIn, "b"), true, false},
		{"NotIn no match", req("zone", v1.NodeSelectorOpNotIn, "a"), false, false},
		{"NotIn missing label", req("other", v1.NodeSelectorOpNotIn, "a"), true, false},
		{"Exists", req("zone", v1.NodeSelectorOpExists), true, false},
		{"Exists missing", req("other", v1.NodeSelectorOpExists), false, false},
		{"Exists with values", req("zone", v1.NodeSelectorOpExists, "a"), false, true},
		{"DoesNotExist", req("other", v1.NodeSelectorOpDoesNotExist), true, false},
		{"DoesNotExist present", req("zone", v1.NodeSelectorOpDoesNotExist), false, false},
		{"Gt true", req("gen", v1.NodeSelectorOpGt, "4"), true, false},
		{"Gt false", req("gen", v1.NodeSelectorOpGt, "5"), false, false},
		{"Lt true", req("gen", v1.NodeSelectorOpLt, "6"), true, false},
		{"Lt false", req("gen", v1.NodeSelectorOpLt, "5"), false, false},
		{"Gt label not a number", req("bad", v1.NodeSelectorOpGt, "1"), false, false},
		{"Gt missing label", req("other", v1.NodeSelectorOpGt, "1"), false, false},
		{"Gt value not a number", req("gen", v1.NodeSelectorOpGt, "x"), false, true},
		{"Gt two values", req("gen", v1.NodeSelectorOpGt, "1", "2"), false, true},
		{"unknown operator", req("gen", "Like", "1"), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := RequirementMatches(tt.r, labels)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Fatalf("got %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestPodMatchesNodeSelectorAndAffinityTerms(t *testing.T) {
	t.Parallel()
	node := st.MakeNode("n1").Label("zone", "a").Label("disk", "ssd").Obj()
	in := func(k string, v ...string) v1.NodeSelectorRequirement {
		return v1.NodeSelectorRequirement{Key: k, Operator: v1.NodeSelectorOpIn, Values: v}
	}
	tests := []struct {
		name string
		pod  *v1.Pod
		want bool
	}{
		{"nothing", st.MakePod("ns", "p").Obj(), true},
		{"nodeSelector match", st.MakePod("ns", "p").NodeSelector(map[string]string{"zone": "a", "disk": "ssd"}).Obj(), true},
		{"nodeSelector mismatch", st.MakePod("ns", "p").NodeSelector(map[string]string{"zone": "b"}).Obj(), false},
		{"term ANDs requirements", st.MakePod("ns", "p").RequiredNodeAffinity(in("zone", "a"), in("disk", "hdd")).Obj(), false},
		{"terms are ORed", st.MakePod("ns", "p").RequiredNodeAffinity(in("zone", "b")).RequiredNodeAffinity(in("disk", "ssd")).Obj(), true},
		{"selector and affinity both apply", st.MakePod("ns", "p").NodeSelector(map[string]string{"zone": "b"}).RequiredNodeAffinity(in("zone", "a")).Obj(), false},
		{"matchFields metadata.name", func() *v1.Pod {
			p := st.MakePod("ns", "p").Obj()
			p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
				NodeSelectorTerms: []v1.NodeSelectorTerm{{MatchFields: []v1.NodeSelectorRequirement{{Key: "metadata.name", Operator: v1.NodeSelectorOpIn, Values: []string{"n1"}}}}}}}}
			return p
		}(), true},
		{"empty term matches nothing", func() *v1.Pod {
			p := st.MakePod("ns", "p").Obj()
			p.Spec.Affinity = &v1.Affinity{NodeAffinity: &v1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &v1.NodeSelector{
				NodeSelectorTerms: []v1.NodeSelectorTerm{{}}}}}
			return p
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PodMatchesNodeSelectorAndAffinityTerms(tt.pod, node); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
