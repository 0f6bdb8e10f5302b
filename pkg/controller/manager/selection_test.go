package manager

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestKnownIsConsistent: upstream's naming rules hold (canonical names end
// in -controller), no name or alias is used twice, and the controllers
// kinc implements are the ones this slice built.
func TestKnownIsConsistent(t *testing.T) {
	nameRE := regexp.MustCompile(`^[a-z]([-a-z]*[a-z])?$`)
	seen := map[string]string{}
	for _, d := range Known() {
		if !nameRE.MatchString(d.Name) || !strings.HasSuffix(d.Name, "-controller") {
			t.Errorf("controller name %q is not upstream's form", d.Name)
		}
		for _, n := range append([]string{d.Name}, d.Aliases...) {
			if other, dup := seen[n]; dup {
				t.Errorf("%q names both %s and %s", n, other, d.Name)
			}
			seen[n] = d.Name
		}
	}
	if got, want := implemented(), []string{"endpoints-controller", "endpointslice-controller", "pod-garbage-collector-controller", "namespace-controller", "serviceaccount-controller", "garbage-collector-controller", "daemonset-controller", "job-controller", "deployment-controller", "replicaset-controller", "disruption-controller", "statefulset-controller", "cronjob-controller", "certificatesigningrequest-signing-controller", "certificatesigningrequest-approving-controller", "certificatesigningrequest-cleaner-controller", "node-ipam-controller", "node-lifecycle-controller", "clusterrole-aggregation-controller", "ttl-after-finished-controller", "root-ca-certificate-publisher-controller", "taint-eviction-controller"}; !slices.Equal(got, want) {
		t.Errorf("implemented %q, want %q", got, want)
	}
	var off []string
	for _, d := range Known() {
		if d.DisabledByDefault {
			off = append(off, d.Name)
		}
	}
	if want := []string{"bootstrap-signer-controller", "token-cleaner-controller", "selinux-warning-controller"}; !slices.Equal(off, want) {
		t.Errorf("disabled by default %q, want upstream's %q", off, want)
	}
}

// TestEnabled: --controllers as upstream reads it.
func TestEnabled(t *testing.T) {
	known := []Descriptor{
		{Name: "a-controller", Aliases: []string{"a"}},
		{Name: "b-controller", Aliases: []string{"b"}},
		{Name: "off-controller", Aliases: []string{"off"}, DisabledByDefault: true},
	}
	for _, tc := range []struct {
		list []string
		want []string
	}{
		{[]string{"*"}, []string{"a-controller", "b-controller"}},
		{[]string{"*", "off"}, []string{"a-controller", "b-controller", "off-controller"}},
		{[]string{"*", "-a"}, []string{"b-controller"}},
		{[]string{"-a-controller", "*"}, []string{"b-controller"}},
		{[]string{"off-controller"}, []string{"off-controller"}},
		{[]string{"a"}, []string{"a-controller"}},
		{[]string{"-a"}, nil},
		{nil, nil},
		// The first entry naming a controller decides, by name or alias.
		{[]string{"a", "-a-controller"}, []string{"a-controller"}},
		{[]string{"-a", "a-controller", "*"}, []string{"b-controller"}},
	} {
		got, err := Enabled(known, tc.list)
		if err != nil || !slices.Equal(names(got), tc.want) {
			t.Errorf("%q: %q, %v; want %q", tc.list, names(got), err, tc.want)
		}
	}
}

// TestEnabledKubeadm: kubeadm's --controllers=*,bootstrapsigner,tokencleaner
// enables every default controller and the two it names, not the other
// disabled one.
func TestEnabledKubeadm(t *testing.T) {
	got, err := Enabled(Known(), []string{"*", "bootstrapsigner", "tokencleaner"})
	if err != nil {
		t.Fatal(err)
	}
	n := names(got)
	if len(n) != len(Known())-1 || !slices.Contains(n, "bootstrap-signer-controller") || !slices.Contains(n, "token-cleaner-controller") ||
		slices.Contains(n, "selinux-warning-controller") {
		t.Errorf("enabled %q", n)
	}
}

// TestEnabledUnknown: every unknown entry, enabled or disabled, is named in
// upstream's words; known ones are fine alongside.
func TestEnabledUnknown(t *testing.T) {
	_, err := Enabled(Known(), []string{"*", "serviceaccount", "nope", "-gone", "-namespace"})
	if err == nil {
		t.Fatal("no error for unknown controllers")
	}
	want := "--controllers: \"nope\" is not in the list of known controllers\n--controllers: \"gone\" is not in the list of known controllers"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
