package delegated

import (
	"context"
	"slices"
)

// Well-known users and groups.
const (
	Anonymous            = "system:anonymous"
	GroupUnauthenticated = "system:unauthenticated"
	GroupAuthenticated   = "system:authenticated"
	GroupMasters         = "system:masters"
)

// User is an authenticated identity. A User is never modified once an
// authenticator returned it (it may be shared through a cache); copy it
// to change it.
type User struct {
	Name   string
	UID    string
	Groups []string
	// Extra holds further facts about the user (e.g.
	// authentication.kubernetes.io/pod-name of a service-account token).
	Extra map[string][]string
}

// InGroup reports whether u is in group.
func (u *User) InGroup(group string) bool { return u != nil && slices.Contains(u.Groups, group) }

type userKey struct{}

// WithUser returns ctx carrying u, the request's authenticated user;
// Filter sets it for the handlers behind it.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the authenticated user ctx carries.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}
