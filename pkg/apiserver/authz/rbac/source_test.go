package rbac

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// indexedSource returns a StoreSource holding f's objects, without
// running it.
func indexedSource(t *testing.T, f *fakeSource) *StoreSource {
	t.Helper()
	s := NewStoreSource(Stores{})
	add := func(inf interface{ Add(any) error }, obj any) {
		if err := inf.Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range f.roles {
		add(s.roles.GetIndexer(), o)
	}
	for _, o := range f.clusterRoles {
		add(s.clusterRoles.GetIndexer(), o)
	}
	for _, o := range f.rbs {
		add(s.roleBindings.GetIndexer(), o)
	}
	for _, o := range f.crbs {
		add(s.clusterRoleBindings.GetIndexer(), o)
	}
	return s
}

// The index by subject must decide exactly as listing every binding does.
func TestStoreSourceIndexMatchesLists(t *testing.T) {
	f := testSource()
	// A binding naming the user twice (by name and group) is seen once.
	f.crbs = append(f.crbs, clusterRoleBinding("twice", "pod-reader", "User:carol", "Group:carols"))
	listed := New(f)
	indexed := New(indexedSource(t, f))
	if indexed.index == nil {
		t.Fatal("StoreSource is not used as a SubjectIndex")
	}
	users := []*authn.User{
		user("root", "admins"), user("alice"), user("bob"), user("dangler"), user("carol", "carols"),
		user(authn.Anonymous, authn.GroupUnauthenticated), user("eve", authn.GroupAuthenticated),
		user("system:serviceaccount:ns1:app", "system:serviceaccounts", "system:serviceaccounts:ns1"),
		user("system:serviceaccount:ns2:x", "system:serviceaccounts", "system:serviceaccounts:ns2"),
		user("system:serviceaccount:kube-system:ctrl"), user("system:serviceaccount::nowhere"),
	}
	for _, u := range users {
		for _, namespace := range []string{"", "ns1", "ns2", "kube-system"} {
			want, wantErr := listed.RulesFor(context.Background(), u, namespace)
			got, gotErr := indexed.RulesFor(context.Background(), u, namespace)
			if len(got) != len(want) || (wantErr == nil) != (gotErr == nil) {
				t.Errorf("%s in %q: indexed %d rules (err %v), listed %d (err %v)", u.Name, namespace, len(got), gotErr, len(want), wantErr)
			}
		}
	}
	// The index finds bindings of the user only.
	crbs, _ := indexedSource(t, f).ClusterRoleBindingsFor(user("carol", "carols"))
	if len(crbs) != 1 || crbs[0].Name != "twice" {
		t.Errorf("carol's cluster role bindings: %v", crbs)
	}
	d, _, _ := indexed.Authorize(context.Background(), authz.Attributes{User: user("alice"), Verb: "list",
		IsResourceRequest: true, Resource: "pods", Namespace: "ns1"})
	if d != authz.Allow {
		t.Errorf("alice cannot list pods in ns1 through the index")
	}
}

// fakeStore serves List and Watch of a fixed list; a watch sees what is
// sent on events.
type fakeStore struct {
	registry.Store
	list   runtime.Object
	events chan watch.Event
}

func (f *fakeStore) List(context.Context, string, *metav1.ListOptions) (runtime.Object, error) {
	return f.list.DeepCopyObject(), nil
}

func (f *fakeStore) Watch(ctx context.Context, _ string, _ *metav1.ListOptions) (watch.Interface, error) {
	w := watch.NewFake()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-f.events:
				w.Action(e.Type, e.Object)
			}
		}
	}()
	return w, nil
}

func TestStoreSourceRun(t *testing.T) {
	rv := metav1.ListMeta{ResourceVersion: "1"}
	crbs := &fakeStore{list: &rbacv1.ClusterRoleBindingList{ListMeta: rv,
		Items: []rbacv1.ClusterRoleBinding{*clusterRoleBinding("b", "reader", "User:u")}}, events: make(chan watch.Event)}
	st := Stores{
		Roles:               &fakeStore{list: &rbacv1.RoleList{ListMeta: rv}},
		RoleBindings:        &fakeStore{list: &rbacv1.RoleBindingList{ListMeta: rv}},
		ClusterRoles:        &fakeStore{list: &rbacv1.ClusterRoleList{ListMeta: rv, Items: []rbacv1.ClusterRole{*clusterRole("reader", rule("get", "g:", "r:pods"))}}},
		ClusterRoleBindings: crbs,
	}
	src := NewStoreSource(st)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src.Run(ctx)
	if !src.WaitForSync(ctx) || !src.HasSynced() {
		t.Fatal("not synced")
	}
	z := New(src)
	get := authz.Attributes{Verb: "get", IsResourceRequest: true, Resource: "pods", Namespace: "x"}
	get.User = user("u")
	if d, reason, _ := z.Authorize(ctx, get); d != authz.Allow {
		t.Fatalf("u: %v %q", d, reason)
	}
	get.User = user("v")
	if d, _, _ := z.Authorize(ctx, get); d == authz.Allow {
		t.Fatal("v allowed before its binding")
	}
	b := clusterRoleBinding("b2", "reader", "User:v")
	b.ResourceVersion = "2"
	crbs.events <- watch.Event{Type: watch.Added, Object: b}
	for {
		if d, _, _ := z.Authorize(ctx, get); d == authz.Allow {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the watched binding never applied")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
