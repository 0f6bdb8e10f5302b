package rbac_test

import (
	"context"
	"fmt"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz/rbac"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz/rbac/bootstrappolicy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// listStore serves a fixed list and a watch that never sends.
type listStore struct {
	registry.Store
	list runtime.Object
}

func (s listStore) List(context.Context, string, *metav1.ListOptions) (runtime.Object, error) {
	return s.list.DeepCopyObject(), nil
}

func (s listStore) Watch(context.Context, string, *metav1.ListOptions) (watch.Interface, error) {
	return watch.NewFake(), nil
}

// bootstrapAuthorizer returns the authorizer over upstream's bootstrap
// policy, kubeadm's kubeadm:cluster-admins binding and extra namespaces of
// RoleBindings, through a synced StoreSource.
func bootstrapAuthorizer(b *testing.B, namespaces int) *rbac.Authorizer {
	b.Helper()
	rv := metav1.ListMeta{ResourceVersion: "1"}
	crs := &rbacv1.ClusterRoleList{ListMeta: rv, Items: append(bootstrappolicy.ClusterRoles(), bootstrappolicy.ControllerRoles()...)}
	crbs := &rbacv1.ClusterRoleBindingList{ListMeta: rv, Items: append(bootstrappolicy.ClusterRoleBindings(), bootstrappolicy.ControllerRoleBindings()...)}
	crbs.Items = append(crbs.Items, rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:cluster-admins"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "kubeadm:cluster-admins"}}})
	roles := &rbacv1.RoleList{ListMeta: rv, Items: bootstrappolicy.NamespaceRoles()}
	rbs := &rbacv1.RoleBindingList{ListMeta: rv, Items: bootstrappolicy.NamespaceRoleBindings()}
	for i := range namespaces {
		ns := fmt.Sprintf("ns%d", i)
		for j := range 10 {
			rbs.Items = append(rbs.Items, rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("b%d", j)},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:aggregate-to-edit"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: fmt.Sprintf("sa%d", j)}}})
		}
	}
	src := rbac.NewStoreSource(rbac.Stores{Roles: listStore{list: roles}, RoleBindings: listStore{list: rbs},
		ClusterRoles: listStore{list: crs}, ClusterRoleBindings: listStore{list: crbs}})
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	src.Run(ctx)
	if !src.WaitForSync(ctx) {
		b.Fatal("not synced")
	}
	return rbac.New(src)
}

// BenchmarkAuthorize measures one RBAC decision per request kind of a pod
// create's path, over the bootstrap policy and 100 namespaces of bindings.
func BenchmarkAuthorize(b *testing.B) {
	z := bootstrapAuthorizer(b, 100)
	authenticated := func(name string, groups ...string) *authn.User {
		return &authn.User{Name: name, Groups: append(groups, authn.GroupAuthenticated)}
	}
	for _, tc := range []struct {
		name  string
		attrs authz.Attributes
		allow bool
	}{
		{"admin.conf creates a pod", authz.Attributes{User: authenticated("kubernetes-admin", "kubeadm:cluster-admins"),
			Verb: "create", IsResourceRequest: true, Resource: "pods", Namespace: "default"}, true},
		{"scheduler binds a pod", authz.Attributes{User: authenticated("system:kube-scheduler"),
			Verb: "create", IsResourceRequest: true, Resource: "pods", Subresource: "binding", Namespace: "default", Name: "p"}, true},
		{"service account of a namespace", authz.Attributes{User: authenticated("system:serviceaccount:ns42:sa7", "system:serviceaccounts", "system:serviceaccounts:ns42"),
			Verb: "create", IsResourceRequest: true, APIGroup: "apps", Resource: "deployments", Namespace: "ns42"}, true},
		{"service account refused", authz.Attributes{User: authenticated("system:serviceaccount:ns42:other", "system:serviceaccounts", "system:serviceaccounts:ns42"),
			Verb: "list", IsResourceRequest: true, Resource: "secrets", Namespace: "ns42"}, false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if d, _, _ := z.Authorize(ctx, tc.attrs); (d == authz.Allow) != tc.allow {
					b.Fatalf("decision %v", d)
				}
			}
		})
	}
}
