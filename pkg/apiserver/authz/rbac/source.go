package rbac

import (
	"context"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/serviceaccount"
)

// Stores are the apiserver's stores of the four RBAC kinds, read by
// StoreSource.
type Stores struct {
	Roles, RoleBindings, ClusterRoles, ClusterRoleBindings registry.Store
}

// StoreSource is a Source kept in memory from the apiserver's own stores
// (a list, then a watch, of each kind, as an informer does), with the
// bindings indexed by subject so that the authorizer only looks at the
// bindings that may apply to a user (it implements SubjectIndex). Until
// HasSynced it answers from what it has read so far. Build it with
// NewStoreSource and start it with Run.
type StoreSource struct {
	roles, roleBindings, clusterRoles, clusterRoleBindings cache.SharedIndexInformer
}

var (
	_ Source       = (*StoreSource)(nil)
	_ SubjectIndex = (*StoreSource)(nil)
)

// subjectIndex is the name of the bindings' index by subject key.
const subjectIndex = "subject"

// NewStoreSource returns a source reading st; it reads nothing before Run.
func NewStoreSource(st Stores) *StoreSource {
	inf := func(s registry.Store, example runtime.Object, indexers cache.Indexers) cache.SharedIndexInformer {
		return cache.NewSharedIndexInformerWithOptions(storeListWatch{s}, example, cache.SharedIndexInformerOptions{Indexers: indexers})
	}
	return &StoreSource{
		roles:        inf(st.Roles, &rbacv1.Role{}, cache.Indexers{}),
		clusterRoles: inf(st.ClusterRoles, &rbacv1.ClusterRole{}, cache.Indexers{}),
		roleBindings: inf(st.RoleBindings, &rbacv1.RoleBinding{},
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, subjectIndex: roleBindingSubjects}),
		clusterRoleBindings: inf(st.ClusterRoleBindings, &rbacv1.ClusterRoleBinding{},
			cache.Indexers{subjectIndex: clusterRoleBindingSubjects}),
	}
}

// Run reads the stores until ctx ends; it returns at once.
func (s *StoreSource) Run(ctx context.Context) {
	for _, inf := range s.informers() {
		go inf.RunWithContext(ctx)
	}
}

// HasSynced reports whether every kind has been listed once.
func (s *StoreSource) HasSynced() bool {
	for _, inf := range s.informers() {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// WaitForSync waits until HasSynced or ctx ends, and reports HasSynced.
func (s *StoreSource) WaitForSync(ctx context.Context) bool {
	return cache.WaitForCacheSync(ctx.Done(), s.roles.HasSynced, s.roleBindings.HasSynced,
		s.clusterRoles.HasSynced, s.clusterRoleBindings.HasSynced)
}

func (s *StoreSource) informers() []cache.SharedIndexInformer {
	return []cache.SharedIndexInformer{s.roles, s.roleBindings, s.clusterRoles, s.clusterRoleBindings}
}

// GetRole implements Source.
func (s *StoreSource) GetRole(_ context.Context, namespace, name string) (*rbacv1.Role, error) {
	obj, ok, err := s.roles.GetIndexer().GetByKey(namespace + "/" + name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, NotFound("role", name)
	}
	return obj.(*rbacv1.Role), nil
}

// GetClusterRole implements Source.
func (s *StoreSource) GetClusterRole(_ context.Context, name string) (*rbacv1.ClusterRole, error) {
	obj, ok, err := s.clusterRoles.GetIndexer().GetByKey(name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, NotFound("clusterrole", name)
	}
	return obj.(*rbacv1.ClusterRole), nil
}

// ListRoleBindings implements Source.
func (s *StoreSource) ListRoleBindings(_ context.Context, namespace string) ([]*rbacv1.RoleBinding, error) {
	objs, err := s.roleBindings.GetIndexer().ByIndex(cache.NamespaceIndex, namespace)
	return typed[*rbacv1.RoleBinding](objs), err
}

// ListClusterRoleBindings implements Source.
func (s *StoreSource) ListClusterRoleBindings(context.Context) ([]*rbacv1.ClusterRoleBinding, error) {
	return typed[*rbacv1.ClusterRoleBinding](s.clusterRoleBindings.GetIndexer().List()), nil
}

// ClusterRoleBindingsFor implements SubjectIndex.
func (s *StoreSource) ClusterRoleBindingsFor(user *authn.User) ([]*rbacv1.ClusterRoleBinding, error) {
	objs, err := byKeys(s.clusterRoleBindings.GetIndexer(), userKeys(user, ""))
	return typed[*rbacv1.ClusterRoleBinding](objs), err
}

// RoleBindingsFor implements SubjectIndex.
func (s *StoreSource) RoleBindingsFor(user *authn.User, namespace string) ([]*rbacv1.RoleBinding, error) {
	objs, err := byKeys(s.roleBindings.GetIndexer(), userKeys(user, namespace+"/"))
	return typed[*rbacv1.RoleBinding](objs), err
}

// byKeys returns the objects of the subject index under keys, each once.
func byKeys(idx cache.Indexer, keys []string) ([]any, error) {
	var out []any
	hits := 0
	for _, k := range keys {
		objs, err := idx.ByIndex(subjectIndex, k)
		if err != nil {
			return nil, err
		}
		if len(objs) == 0 {
			continue
		}
		hits++
		if hits == 1 {
			out = objs
			continue
		}
		// A binding naming both the user and one of its groups is in two
		// lists; the authorizer must see it once.
		for _, o := range objs {
			dup := false
			for _, seen := range out {
				if seen == o {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

func typed[T any](objs []any) []T {
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// Subject keys: "U:<user>", "G:<group>", "S:<namespace>:<name>", prefixed
// with "<namespace>/" for RoleBindings.

// userKeys returns the keys a user's bindings are indexed under.
func userKeys(user *authn.User, prefix string) []string {
	if user == nil {
		return nil
	}
	keys := make([]string, 0, len(user.Groups)+2)
	keys = append(keys, prefix+"U:"+user.Name)
	for _, g := range user.Groups {
		keys = append(keys, prefix+"G:"+g)
	}
	if ns, name, ok := serviceaccount.SplitUsername(user.Name); ok {
		keys = append(keys, prefix+"S:"+ns+":"+name)
	}
	return keys
}

func subjectKeys(subjects []rbacv1.Subject, namespace, prefix string) []string {
	keys := make([]string, 0, len(subjects))
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			keys = append(keys, prefix+"U:"+s.Name)
		case rbacv1.GroupKind:
			keys = append(keys, prefix+"G:"+s.Name)
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = namespace
			}
			if ns != "" {
				keys = append(keys, prefix+"S:"+ns+":"+s.Name)
			}
		}
	}
	return keys
}

func roleBindingSubjects(obj any) ([]string, error) {
	b, ok := obj.(*rbacv1.RoleBinding)
	if !ok {
		return nil, nil
	}
	return subjectKeys(b.Subjects, b.Namespace, b.Namespace+"/"), nil
}

func clusterRoleBindingSubjects(obj any) ([]string, error) {
	b, ok := obj.(*rbacv1.ClusterRoleBinding)
	if !ok {
		return nil, nil
	}
	return subjectKeys(b.Subjects, "", ""), nil
}

// storeListWatch lists and watches a registry.Store for a reflector. The
// stores do not serve watch-list streams (sendInitialEvents), so it tells
// the reflector to list first.
type storeListWatch struct{ st registry.Store }

func (l storeListWatch) List(opts metav1.ListOptions) (runtime.Object, error) {
	return l.ListWithContext(context.Background(), opts)
}

func (l storeListWatch) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	return l.st.List(ctx, "", &opts)
}

func (l storeListWatch) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return l.WatchWithContext(context.Background(), opts)
}

func (l storeListWatch) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	return l.st.Watch(ctx, "", &opts)
}

// IsWatchListSemanticsUnSupported tells client-go's reflector not to use
// watch-list streams.
func (storeListWatch) IsWatchListSemanticsUnSupported() bool { return true }
