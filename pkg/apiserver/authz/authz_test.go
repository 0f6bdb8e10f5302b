package authz

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
)

var (
	anonymous = &authn.User{Name: authn.Anonymous, Groups: []string{authn.GroupUnauthenticated}}
	admin     = &authn.User{Name: "kubernetes-admin", Groups: []string{"kubeadm:cluster-admins", authn.GroupAuthenticated}}
)

func path(user *authn.User, verb, p string) Attributes {
	return Attributes{User: user, Verb: verb, Path: p}
}

func resource(user *authn.User, verb, res string) Attributes {
	return Attributes{User: user, Verb: verb, IsResourceRequest: true, Resource: res, Namespace: "default"}
}

func TestAnonymous(t *testing.T) {
	tests := []struct {
		name string
		a    Attributes
		want Decision
	}{
		{"healthz", path(anonymous, "get", "/healthz"), Allow},
		{"a named health check", path(anonymous, "get", "/healthz/etcd"), Allow},
		{"livez", path(anonymous, "get", "/livez"), Allow},
		{"readyz", path(anonymous, "get", "/readyz"), Allow},
		{"version", path(anonymous, "get", "/version"), Allow},
		{"a longer name is not a public path", path(anonymous, "get", "/healthzx"), Deny},
		{"writing a public path", path(anonymous, "post", "/healthz"), Deny},
		{"discovery", path(anonymous, "get", "/api"), Deny},
		{"resources", resource(anonymous, "get", "pods"), Deny},
		{"a resource named like a public path", Attributes{User: anonymous, Verb: "get", IsResourceRequest: true, Path: "/version"}, Deny},
		{"other users are not its business", resource(admin, "delete", "pods"), NoOpinion},
		{"no user", path(nil, "get", "/api"), NoOpinion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reason, err := Anonymous{}.Authorize(context.Background(), tt.a)
			if err != nil || d != tt.want {
				t.Fatalf("decision %v (%q, %v), want %v", d, reason, err, tt.want)
			}
			if d == Deny && !strings.Contains(reason, "/healthz") {
				t.Errorf("denial reason %q does not say what is allowed", reason)
			}
		})
	}
}

func TestAlways(t *testing.T) {
	a := resource(admin, "create", "pods")
	if d, _, err := (AlwaysAllow{}).Authorize(context.Background(), a); d != Allow || err != nil {
		t.Errorf("AlwaysAllow: %v %v", d, err)
	}
	if d, reason, err := (AlwaysDeny{}).Authorize(context.Background(), a); d != Deny || reason == "" || err != nil {
		t.Errorf("AlwaysDeny: %v %q %v", d, reason, err)
	}
}

type fixed struct {
	d      Decision
	reason string
	err    error
}

func (f fixed) Authorize(context.Context, Attributes) (Decision, string, error) {
	return f.d, f.reason, f.err
}

func TestUnion(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name       string
		u          Union
		want       Decision
		wantReason string
		wantErr    error
	}{
		{name: "empty denies", u: Union{}, want: Deny, wantReason: "no authorizer allowed the request"},
		{name: "all without opinion deny", u: Union{fixed{}, fixed{}}, want: Deny, wantReason: "no authorizer allowed the request"},
		{name: "first opinion wins", u: Union{fixed{}, fixed{d: Deny, reason: "no"}, fixed{d: Allow}}, want: Deny, wantReason: "no"},
		{name: "allow", u: Union{fixed{}, fixed{d: Allow}, fixed{d: Deny}}, want: Allow},
		{name: "an error denies", u: Union{fixed{err: boom}, fixed{d: Allow}}, want: Deny, wantErr: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reason, err := tt.u.Authorize(context.Background(), Attributes{})
			if d != tt.want || reason != tt.wantReason || err != tt.wantErr {
				t.Errorf("got %v %q %v, want %v %q %v", d, reason, err, tt.want, tt.wantReason, tt.wantErr)
			}
		})
	}
}

func TestFromModes(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		modes         string
		admin, anon   Decision
		wantErrSubstr string
	}{
		{modes: "AlwaysAllow", admin: Allow, anon: Deny},
		{modes: "AlwaysDeny", admin: Deny, anon: Deny},
		{modes: " AlwaysDeny , AlwaysAllow", admin: Deny, anon: Deny},
		{modes: "AlwaysAllow,AlwaysDeny", admin: Allow, anon: Deny},
		{modes: "ABAC", wantErrSubstr: "not implemented"},
		{modes: "AlwaysAllow,Bogus", wantErrSubstr: `unknown authorization mode "Bogus"`},
		{modes: "", wantErrSubstr: "unknown authorization mode"},
	}
	for _, tt := range tests {
		t.Run(tt.modes, func(t *testing.T) {
			z, err := FromModes(tt.modes)
			if tt.wantErrSubstr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErrSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d, _, _ := z.Authorize(ctx, resource(admin, "list", "pods")); d != tt.admin {
				t.Errorf("admin: %v, want %v", d, tt.admin)
			}
			if d, _, _ := z.Authorize(ctx, resource(anonymous, "list", "pods")); d != tt.anon {
				t.Errorf("anonymous: %v, want %v", d, tt.anon)
			}
			// Anonymous comes first: the health endpoints stay public even
			// under AlwaysDeny.
			if d, _, _ := z.Authorize(ctx, path(anonymous, "get", "/readyz")); d != Allow {
				t.Errorf("anonymous /readyz: %v, want Allow", d)
			}
		})
	}
}
