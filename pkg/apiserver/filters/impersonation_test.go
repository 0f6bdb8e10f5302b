package filters_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/filters"
)

// impersonators lets "admin" impersonate anything and "helper" only the
// user alice; it records what it was asked.
type impersonators struct{ asked []authz.Attributes }

func (z *impersonators) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	z.asked = append(z.asked, a)
	if a.User.Name == "admin" || (a.User.Name == "helper" && a.Resource == "users" && a.Name == "alice") {
		return authz.Allow, "", nil
	}
	return authz.NoOpinion, "", nil
}

func TestWithImpersonation(t *testing.T) {
	admin := &authn.User{Name: "admin", Groups: []string{"system:masters", authn.GroupAuthenticated}}
	tests := []struct {
		name    string
		as      *authn.User
		headers http.Header
		want    *authn.User // nil: refused with code
		code    int
		asked   []authz.Attributes
	}{
		{name: "no headers", as: admin, headers: http.Header{}, want: admin},
		{name: "a user", as: admin, headers: http.Header{"Impersonate-User": {"alice"}},
			want:  &authn.User{Name: "alice", Groups: []string{authn.GroupAuthenticated}},
			asked: []authz.Attributes{{User: admin, Verb: "impersonate", IsResourceRequest: true, Resource: "users", Name: "alice"}}},
		{name: "a user with groups, uid and extras", as: admin, headers: http.Header{"Impersonate-User": {"alice"},
			"Impersonate-Group": {"devs", "ops"}, "Impersonate-Uid": {"u-1"}, "Impersonate-Extra-Acme.com%2fscopes": {"a", "b"}},
			want: &authn.User{Name: "alice", UID: "u-1", Groups: []string{"devs", "ops", authn.GroupAuthenticated},
				Extra: map[string][]string{"acme.com/scopes": {"a", "b"}}},
			asked: []authz.Attributes{
				{User: admin, Verb: "impersonate", IsResourceRequest: true, Resource: "users", Name: "alice"},
				{User: admin, Verb: "impersonate", IsResourceRequest: true, Resource: "groups", Name: "devs"},
				{User: admin, Verb: "impersonate", IsResourceRequest: true, Resource: "groups", Name: "ops"},
				{User: admin, Verb: "impersonate", IsResourceRequest: true, APIGroup: "authentication.k8s.io", Resource: "userextras", Subresource: "acme.com/scopes", Name: "a"},
				{User: admin, Verb: "impersonate", IsResourceRequest: true, APIGroup: "authentication.k8s.io", Resource: "userextras", Subresource: "acme.com/scopes", Name: "b"},
				{User: admin, Verb: "impersonate", IsResourceRequest: true, APIGroup: "authentication.k8s.io", Resource: "uids", Name: "u-1"},
			}},
		{name: "a service account", as: admin, headers: http.Header{"Impersonate-User": {"system:serviceaccount:ns:robot"}},
			want: &authn.User{Name: "system:serviceaccount:ns:robot", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns", authn.GroupAuthenticated}},
			asked: []authz.Attributes{{User: admin, Verb: "impersonate", IsResourceRequest: true, Resource: "serviceaccounts",
				Namespace: "ns", Name: "robot"}}},
		{name: "a service account with groups", as: admin, headers: http.Header{"Impersonate-User": {"system:serviceaccount:ns:robot"},
			"Impersonate-Group": {"system:unauthenticated"}},
			want: &authn.User{Name: "system:serviceaccount:ns:robot", Groups: []string{"system:unauthenticated"}}},
		{name: "anonymous", as: admin, headers: http.Header{"Impersonate-User": {"system:anonymous"}},
			want: &authn.User{Name: "system:anonymous", Groups: []string{authn.GroupUnauthenticated}}},
		{name: "allowed for one user", as: &authn.User{Name: "helper"}, headers: http.Header{"Impersonate-User": {"alice"}},
			want: &authn.User{Name: "alice", Groups: []string{authn.GroupAuthenticated}}},
		{name: "refused", as: &authn.User{Name: "helper"}, headers: http.Header{"Impersonate-User": {"alice"}, "Impersonate-Group": {"system:masters"}},
			code: http.StatusForbidden},
		{name: "groups without a user", as: admin, headers: http.Header{"Impersonate-Group": {"devs"}}, code: http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := &impersonators{}
			var got *authn.User
			var leftHeaders http.Header
			h := filters.WithImpersonation(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = filters.UserFrom(r.Context())
				leftHeaders = r.Header
			}), z, discard)
			r := httptest.NewRequest(http.MethodGet, "/api/v1/pods", nil)
			r.Header = tt.headers
			rec := serve(h, r.WithContext(authn.WithUser(r.Context(), tt.as)))
			if tt.want == nil {
				st := status(t, rec, tt.code)
				if got != nil {
					t.Errorf("served as %+v", got)
				}
				if tt.code == http.StatusForbidden && st.Message != `groups "system:masters" is forbidden: User "helper" cannot impersonate resource "groups" in API group "" at the cluster scope` {
					t.Errorf("message %q", st.Message)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("served as %+v, want %+v", got, tt.want)
			}
			for name := range leftHeaders {
				if len(name) > 11 && name[:11] == "Impersonate" {
					t.Errorf("header %s left", name)
				}
			}
			if tt.asked != nil && !reflect.DeepEqual(z.asked, tt.asked) {
				t.Errorf("asked\n %+v, want\n %+v", z.asked, tt.asked)
			}
		})
	}
}
