package rbac_test

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrole"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrolebinding"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/role"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/rolebinding"
)

func TestRoles(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		rules []rbacv1.PolicyRule
		role  []Err
		crole []Err
	}{
		{"valid", []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}, nil, nil},
		{"no verbs", []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}}},
			[]Err{E(field.ErrorTypeRequired, "rules[0].verbs")}, []Err{E(field.ErrorTypeRequired, "rules[0].verbs")}},
		{"no groups or resources", []rbacv1.PolicyRule{{Verbs: []string{"get"}}},
			[]Err{E(field.ErrorTypeRequired, "rules[0].apiGroups"), E(field.ErrorTypeRequired, "rules[0].resources")},
			[]Err{E(field.ErrorTypeRequired, "rules[0].apiGroups"), E(field.ErrorTypeRequired, "rules[0].resources")}},
		{"non-resource URLs", []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}},
			[]Err{E(field.ErrorTypeInvalid, "rules[0].nonResourceURLs")}, nil},
		{"mixed", []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}, Resources: []string{"pods"}}},
			[]Err{E(field.ErrorTypeInvalid, "rules[0].nonResourceURLs"), E(field.ErrorTypeInvalid, "rules[0].nonResourceURLs")},
			[]Err{E(field.ErrorTypeInvalid, "rules[0].nonResourceURLs")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"}, Rules: tc.rules}
			Expect(t, role.NewStrategy().Validate(ctx, r), tc.role...)
			cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:controller:x"}, Rules: tc.rules}
			Expect(t, clusterrole.NewStrategy().Validate(ctx, cr), tc.crole...)
		})
	}
	bad := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "x"}, AggregationRule: &rbacv1.AggregationRule{}}
	Expect(t, clusterrole.NewStrategy().Validate(ctx, bad), E(field.ErrorTypeRequired, "aggregationRule.clusterRoleSelectors"))
	if len(rbac.NameFunc("system:kube-scheduler", false)) != 0 || len(rbac.NameFunc("a/b", false)) == 0 || len(rbac.NameFunc("..", false)) == 0 {
		t.Error("RBAC names are path segments")
	}
}

func TestBindings(t *testing.T) {
	ctx := context.Background()
	b := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"},
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "r"},
		Subjects: []rbacv1.Subject{
			{Kind: "User", Name: "alice"}, {Kind: "ServiceAccount", Name: "default"}, {Kind: "Robot", Name: "x"}, {Kind: "Group"},
		},
	}
	s := rolebinding.NewStrategy()
	s.PrepareForCreate(ctx, b)
	if b.RoleRef.APIGroup != rbacv1.GroupName || b.Subjects[0].APIGroup != rbacv1.GroupName || b.Subjects[1].APIGroup != "" {
		t.Errorf("defaults: %+v", b)
	}
	Expect(t, s.Validate(ctx, b),
		E(field.ErrorTypeNotSupported, "subjects[2].kind"),
		E(field.ErrorTypeRequired, "subjects[3].name"), E(field.ErrorTypeInvalid, "subjects[3].name"))

	b.Subjects = b.Subjects[:2]
	changed := b.DeepCopy()
	changed.RoleRef.Name = "other"
	Expect(t, s.ValidateUpdate(ctx, changed, b), E(field.ErrorTypeInvalid, "roleRef"))

	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:get-nodes"},
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "r"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default"}},
	}
	cs := clusterrolebinding.NewStrategy()
	cs.PrepareForCreate(ctx, crb)
	Expect(t, cs.Validate(ctx, crb), E(field.ErrorTypeNotSupported, "roleRef.kind"), E(field.ErrorTypeRequired, "subjects[0].namespace"))
}
