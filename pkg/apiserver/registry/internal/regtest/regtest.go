// Package regtest holds test helpers for the registry strategy packages:
// comparing field error lists by type and path.
package regtest

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Err is an expected field error: its type and its path as upstream prints
// it (for example "spec.containers[0].image").
type Err struct {
	Type  field.ErrorType
	Field string
}

func (e Err) String() string { return fmt.Sprintf("%s %s", e.Field, e.Type) }

// E is shorthand for an Err.
func E(t field.ErrorType, path string) Err { return Err{Type: t, Field: path} }

// Expect fails t unless errs holds exactly want, in any order.
func Expect(t testing.TB, errs field.ErrorList, want ...Err) {
	t.Helper()
	got := make([]string, 0, len(errs))
	for _, e := range errs {
		got = append(got, Err{Type: e.Type, Field: e.Field}.String())
	}
	exp := make([]string, 0, len(want))
	for _, w := range want {
		exp = append(exp, w.String())
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("errors mismatch\n got: %v\nwant: %v\nfull: %v", got, exp, errs)
	}
}

// Contains fails t unless errs holds want (among others).
func Contains(t testing.TB, errs field.ErrorList, want Err) {
	t.Helper()
	for _, e := range errs {
		if e.Type == want.Type && e.Field == want.Field {
			return
		}
	}
	t.Errorf("missing %v in %v", want, errs)
}
