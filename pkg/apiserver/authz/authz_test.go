package authz

import (
	"context"
	"errors"
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
