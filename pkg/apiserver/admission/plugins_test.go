package admission

import (
	"slices"
	"strings"
	"testing"
)

func TestEnabled(t *testing.T) {
	got, err := Enabled(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, DefaultOnPlugins()) || got[0] != NamespaceLifecycle || !slices.Contains(got, PodSecurity) ||
		slices.Contains(got, NodeRestriction) {
		t.Errorf("defaults = %v", got)
	}
	got, err = Enabled([]string{NodeRestriction}, []string{ServiceAccount})
	if err != nil {
		t.Fatal(err)
	}
	i, j := slices.Index(got, NodeRestriction), slices.Index(got, PodSecurity)
	if slices.Contains(got, ServiceAccount) || i < 0 || j < i {
		t.Errorf("enable NodeRestriction, disable ServiceAccount = %v (NodeRestriction must come before PodSecurity)", got)
	}
	for _, tc := range []struct {
		enable, disable []string
		want            string
	}{
		{[]string{"Bogus"}, nil, `enable-admission-plugins plugin "Bogus" is unknown`},
		{nil, []string{"Bogus"}, `disable-admission-plugins plugin "Bogus" is unknown`},
		{[]string{ServiceAccount}, []string{ServiceAccount}, "[ServiceAccount] in enable-admission-plugins and disable-admission-plugins overlapped"},
	} {
		if _, err := Enabled(tc.enable, tc.disable); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Enabled(%v, %v) = %v, want %q", tc.enable, tc.disable, err, tc.want)
		}
	}
}
