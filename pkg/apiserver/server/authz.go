package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz/node"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz/rbac"
)

// The --authorization-mode values.
const (
	modeAlwaysAllow = "AlwaysAllow"
	modeAlwaysDeny  = "AlwaysDeny"
	modeNode        = "Node"
	modeRBAC        = "RBAC"
	modeWebhook     = "Webhook"
	modeABAC        = "ABAC"
)

// authorizationModes parses --authorization-mode (comma separated) as
// upstream validates it: at least one mode, each known and given once.
// Webhook and ABAC are known but not supported by kinc.
func authorizationModes(flag string) ([]string, error) {
	var modes []string
	for _, m := range strings.Split(flag, ",") {
		m = strings.TrimSpace(m)
		switch m {
		case modeAlwaysAllow, modeAlwaysDeny, modeNode, modeRBAC:
		case modeWebhook, modeABAC:
			return nil, fmt.Errorf("--authorization-mode: %s is not supported by kinc (supported: AlwaysAllow, AlwaysDeny, Node, RBAC)", m)
		case "":
			return nil, fmt.Errorf("--authorization-mode: at least one authorization mode must be passed")
		default:
			return nil, fmt.Errorf("--authorization-mode: authorization mode %q is not a valid mode (supported: AlwaysAllow, AlwaysDeny, Node, RBAC)", m)
		}
		if slices.Contains(modes, m) {
			return nil, fmt.Errorf("--authorization-mode: %q has mode specified more than once", flag)
		}
		modes = append(modes, m)
	}
	return modes, nil
}

// anonymousAuth reports whether requests without credentials are
// authenticated as system:anonymous: --anonymous-auth, except with the
// AlwaysAllow mode, where upstream switches anonymous authentication off
// (so such a request is a 401, not allowed everything).
func anonymousAuth(opts *Options) bool {
	modes, _ := authorizationModes(opts.AuthorizationMode)
	return opts.AnonymousAuth && !slices.Contains(modes, modeAlwaysAllow)
}

// newAuthorizer builds the --authorization-mode chain as upstream does:
// members of system:masters are allowed everything first, then each mode
// in order decides (AlwaysAllow, AlwaysDeny, Node, RBAC); a request no mode
// allowed or denied is forbidden. It starts the caches RBAC and Node read
// (informers over s.stores, stopped by Close); until they synced, their
// requests wait for them. It fills s.auth: Authorizer, and Rules, the
// rules of every mode that resolves them (as upstream's rule resolver
// union: AlwaysAllow holds everything, Node and RBAC their own).
func (s *Server) newAuthorizer() (authz.Authorizer, error) {
	modes, err := authorizationModes(s.opts.AuthorizationMode)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Stopped first, before the stores it watches.
	s.stopFunc = append([]func(){cancel}, s.stopFunc...)
	chain := unionAuthorizer{{name: "kubernetes.io/system-privileged-group", z: privilegedGroups{rbac.SystemPrivilegedGroup}}}
	var rules unionRules
	for _, m := range modes {
		var z authz.Authorizer
		switch m {
		case modeAlwaysAllow:
			z = authz.AlwaysAllow{}
			rules = append(rules, allRules{})
		case modeAlwaysDeny:
			z = authz.AlwaysDeny{}
		case modeNode:
			n := node.New(s.stores.lookup)
			n.Start(ctx)
			z = waitForSync(n, n.HasSynced)
			rules = append(rules, n)
		case modeRBAC:
			src := rbac.NewStoreSource(rbac.Stores{
				Roles:               s.stores.lookup(rbacv1.SchemeGroupVersion.WithResource("roles")),
				RoleBindings:        s.stores.lookup(rbacv1.SchemeGroupVersion.WithResource("rolebindings")),
				ClusterRoles:        s.stores.lookup(rbacv1.SchemeGroupVersion.WithResource("clusterroles")),
				ClusterRoleBindings: s.stores.lookup(rbacv1.SchemeGroupVersion.WithResource("clusterrolebindings")),
			})
			src.Run(ctx)
			r := rbac.New(src)
			z = waitForSync(r, src.HasSynced)
			rules = append(rules, r)
		}
		chain = append(chain, namedAuthorizer{name: strings.ToLower(m), z: z})
	}
	s.auth.Authorizer, s.auth.Rules = chain, rules
	return chain, nil
}

// unionRules lists the rules of each resolver, in order, with their errors
// (a resolver that cannot list a user's rules makes the list incomplete).
type unionRules []authz.RuleResolver

func (u unionRules) RulesFor(ctx context.Context, user *authn.User, namespace string) ([]rbacv1.PolicyRule, error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	for _, r := range u {
		rs, err := r.RulesFor(ctx, user, namespace)
		rules = append(rules, rs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return rules, utilerrors.NewAggregate(errs)
}

// allRules are AlwaysAllow's rules: everything.
type allRules struct{}

func (allRules) RulesFor(context.Context, *authn.User, string) ([]rbacv1.PolicyRule, error) {
	return rbac.FullAuthority(), nil
}

// privilegedGroups allows members of its groups everything and has no
// opinion on others (upstream's privileged-groups authorizer).
type privilegedGroups []string

func (p privilegedGroups) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	if a.User != nil {
		for _, g := range a.User.Groups {
			if slices.Contains(p, g) {
				return authz.Allow, "", nil
			}
		}
	}
	return authz.NoOpinion, "", nil
}

type namedAuthorizer struct {
	name string
	z    authz.Authorizer
}

// unionAuthorizer asks its members in order, as upstream's union: the
// first Allow or Deny decides with its reason; when none does, the answer
// is NoOpinion (forbidden) with the members' reasons, each prefixed by its
// name, one a line, and their errors.
type unionAuthorizer []namedAuthorizer

func (u unionAuthorizer) Authorize(ctx context.Context, a authz.Attributes) (authz.Decision, string, error) {
	var reasons []string
	var errs []error
	for _, m := range u {
		d, reason, err := m.z.Authorize(ctx, a)
		if err != nil {
			errs = append(errs, err)
		}
		if reason != "" {
			reasons = append(reasons, m.name+": "+reason)
		}
		if d != authz.NoOpinion {
			return d, reason, err
		}
	}
	return authz.NoOpinion, strings.Join(reasons, "\n"), utilerrors.NewAggregate(errs)
}

// syncWaiter holds requests back until the caches an authorizer reads
// have synced, for at most syncWait per request (or until the request
// ends), so that nothing is refused just because the server started a
// moment ago. After that the authorizer answers from what it has, as
// upstream's does before its informers synced.
type syncWaiter struct {
	z      authz.Authorizer
	synced func() bool
	done   atomic.Bool
}

// syncWait bounds a request's wait for the authorizers' caches.
const syncWait = 10 * time.Second

func waitForSync(z authz.Authorizer, synced func() bool) authz.Authorizer {
	return &syncWaiter{z: z, synced: synced}
}

func (w *syncWaiter) Authorize(ctx context.Context, a authz.Attributes) (authz.Decision, string, error) {
	if !w.done.Load() {
		wctx, cancel := context.WithTimeout(ctx, syncWait)
		if pollSynced(wctx, w.synced) == nil {
			w.done.Store(true)
		}
		cancel()
	}
	return w.z.Authorize(ctx, a)
}

// pollSynced waits until synced reports true or ctx ends.
func pollSynced(ctx context.Context, synced func() bool) error {
	return wait.PollUntilContextCancel(ctx, 10*time.Millisecond, true, func(context.Context) (bool, error) {
		return synced(), nil
	})
}
