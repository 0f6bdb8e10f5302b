package controllerrevision

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func revision(data string, n int64) *appsv1.ControllerRevision {
	cr := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f8", Namespace: "default"}, Revision: n}
	if data != "" {
		cr.Data = runtime.RawExtension{Raw: []byte(data)}
	}
	return cr
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name, data string
		revision   int64
		want       []Err
		detail     string
	}{
		{"template patch", `{"spec":{"template":{"$patch":"replace"}}}`, 1, nil, ""},
		{"empty object", `{}`, 0, nil, ""},
		{"no data", "", 1, []Err{E(field.ErrorTypeRequired, "data")}, "data is mandatory"},
		{"null", `null`, 1, []Err{E(field.ErrorTypeRequired, "data")}, "data is mandatory"},
		{"array", `[1]`, 1, []Err{E(field.ErrorTypeRequired, "data")}, "data must be a valid JSON object"},
		{"string", `"x"`, 1, []Err{E(field.ErrorTypeRequired, "data")}, "data must be a valid JSON object"},
		{"not JSON", `{x`, 1, []Err{E(field.ErrorTypeInvalid, "data")}, "error parsing data: "},
		{"negative revision", `{}`, -1, []Err{E(field.ErrorTypeInvalid, "revision")}, "must be greater than or equal to 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStrategy()
			cr := revision(tc.data, tc.revision)
			s.PrepareForCreate(context.Background(), cr)
			errs := s.Validate(context.Background(), cr)
			Expect(t, errs, tc.want...)
			if tc.detail != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0].Detail, tc.detail)) {
				t.Errorf("detail of %v, want %q", errs, tc.detail)
			}
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := revision(`{"spec":{"template":{"metadata":{"labels":{"app":"web"}}}}}`, 1)
	tests := []struct {
		name   string
		mutate func(*appsv1.ControllerRevision)
		want   []Err
	}{
		{"labels and revision may change (rollback renumbers)", func(cr *appsv1.ControllerRevision) {
			cr.Labels = map[string]string{"controller-revision-hash": "5d4f8"}
			cr.Revision = 3
		}, nil},
		{"same data, other formatting", func(cr *appsv1.ControllerRevision) {
			cr.Data.Raw = []byte("{ \"spec\": {\"template\": {\"metadata\": {\"labels\": {\"app\": \"web\"}}}}}\n")
		}, nil},
		{"data changed", func(cr *appsv1.ControllerRevision) { cr.Data.Raw = []byte(`{"spec":{}}`) },
			[]Err{E(field.ErrorTypeInvalid, "data")}},
		{"data removed", func(cr *appsv1.ControllerRevision) { cr.Data.Raw = nil }, []Err{E(field.ErrorTypeInvalid, "data")}},
		{"negative revision", func(cr *appsv1.ControllerRevision) { cr.Revision = -2 }, []Err{E(field.ErrorTypeInvalid, "revision")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStrategy()
			cr := old.DeepCopy()
			tc.mutate(cr)
			s.PrepareForUpdate(context.Background(), cr, old)
			errs := s.ValidateUpdate(context.Background(), cr, old)
			Expect(t, errs, tc.want...)
			for _, e := range errs {
				if e.Field == "data" && e.Detail != "field is immutable" {
					t.Errorf("detail %q", e.Detail)
				}
			}
		})
	}
}
