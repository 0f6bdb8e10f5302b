package bootstrappolicy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// readFixture decodes the items of testdata/<name>.yaml (a v1 List).
func readFixture[T any](t *testing.T, name string) []T {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := yaml.Unmarshal(data, &list); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := make([]T, len(list.Items))
	for i, raw := range list.Items {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatalf("%s item %d: %v", name, i, err)
		}
	}
	return out
}

type namedObject interface {
	runtime.Object
	GetNamespace() string
	GetName() string
}

// compare checks that ours and upstream's hold the same objects (by
// namespace and name), ignoring type meta and the order of the lists.
func compare[T any, P interface {
	*T
	namedObject
}](t *testing.T, fixture string, ours []T) {
	t.Helper()
	want := readFixture[T](t, fixture)
	index := map[string]*T{}
	for i := range ours {
		p := P(&ours[i])
		key := p.GetNamespace() + "/" + p.GetName()
		if _, dup := index[key]; dup {
			t.Errorf("%s: %s twice", fixture, key)
		}
		index[key] = &ours[i]
	}
	for i := range want {
		w := P(&want[i])
		w.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{}) // ours carry no type meta
		key := w.GetNamespace() + "/" + w.GetName()
		got, ok := index[key]
		if !ok {
			t.Errorf("%s: %s missing", fixture, key)
			continue
		}
		delete(index, key)
		if !apiequality.Semantic.DeepEqual(got, &want[i]) {
			g, _ := yaml.Marshal(got)
			u, _ := yaml.Marshal(&want[i])
			t.Errorf("%s: %s differs\nours:\n%s\nupstream:\n%s", fixture, key, g, u)
		}
	}
	for key := range index {
		t.Errorf("%s: %s is not upstream's", fixture, key)
	}
}

func TestPolicyIsUpstreams(t *testing.T) {
	compare[rbacv1.ClusterRole](t, "cluster-roles", ClusterRoles())
	compare[rbacv1.ClusterRole](t, "controller-roles", ControllerRoles())
	compare[rbacv1.ClusterRoleBinding](t, "cluster-role-bindings", ClusterRoleBindings())
	compare[rbacv1.ClusterRoleBinding](t, "controller-role-bindings", ControllerRoleBindings())
	compare[rbacv1.Role](t, "namespace-roles", NamespaceRoles())
	compare[rbacv1.RoleBinding](t, "namespace-role-bindings", NamespaceRoleBindings())
}

// TestFresh checks that callers may modify what the functions return.
func TestFresh(t *testing.T) {
	a := ClusterRoles()
	a[0].Labels["x"] = "y"
	a[1].Rules[0].Verbs[0] = "nothing"
	b := ClusterRoles()
	if _, ok := b[0].Labels["x"]; ok || b[1].Rules[0].Verbs[0] == "nothing" {
		t.Fatal("ClusterRoles shares its objects between calls")
	}
}

// TestListImpliesWatch is upstream's consistency check: a rule of a
// ClusterRole or Role that lets a client list lets it watch (upstream does
// not hold its controller roles to it).
func TestListImpliesWatch(t *testing.T) {
	check := func(name string, rules []rbacv1.PolicyRule) {
		for _, r := range rules {
			if slices.Contains(r.Verbs, "list") && !slices.Contains(r.Verbs, "watch") {
				t.Errorf("%s: %v lists without watching", name, r)
			}
		}
	}
	for _, r := range ClusterRoles() {
		check(r.Name, r.Rules)
	}
	for _, r := range NamespaceRoles() {
		check(r.Namespace+"/"+r.Name, r.Rules)
	}
}
