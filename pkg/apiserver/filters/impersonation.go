package filters

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/serviceaccount"
)

// impersonation is one thing a request asks to act as, checked with the
// "impersonate" verb on its resource as upstream.
type impersonation struct {
	resource, subresource string
	group                 string // API group of the resource
	namespace, name       string
}

// WithImpersonation serves a request carrying impersonation headers
// (Impersonate-User, -Group, -Uid, -Extra-<key>; kubectl --as, --as-group,
// --as-uid) as the user they name, as upstream: the authenticated user
// must be allowed to "impersonate" each of them by z (users,
// serviceaccounts, groups in the core group; uids and userextras/<key> in
// authentication.k8s.io), else the answer is a 403 naming the first one
// refused. Groups, a UID or extras without a user are a 400. The
// impersonated user is in system:authenticated unless the groups say
// otherwise (system:unauthenticated for system:anonymous), and a service
// account without explicit groups is in its service-account groups. The
// headers are removed. It goes after WithAuthentication and before
// WithAuthorization, which then sees the impersonated user.
func WithImpersonation(next http.Handler, z authz.Authorizer, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asks, err := impersonations(r.Header)
		if err != nil {
			writeStatus(w, r, err)
			return
		}
		if len(asks) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		requestor, ok := UserFrom(r.Context())
		if !ok {
			writeStatus(w, r, apierrors.NewInternalError(fmt.Errorf("no user found for request")))
			return
		}
		groupsGiven := len(r.Header.Values(authenticationv1.ImpersonateGroupHeader)) > 0
		u := &authn.User{Groups: []string{}}
		for _, a := range asks {
			attrs := authz.Attributes{User: requestor, Verb: "impersonate", IsResourceRequest: true, APIGroup: a.group,
				Namespace: a.namespace, Resource: a.resource, Subresource: a.subresource, Name: a.name}
			switch a.resource {
			case "serviceaccounts":
				u.Name = serviceaccount.Username(a.namespace, a.name)
				if !groupsGiven {
					u.Groups = []string{serviceaccount.AllServiceAccountsGroup, serviceaccount.GroupPrefix + a.namespace}
				}
			case "users":
				u.Name = a.name
			case "groups":
				u.Groups = append(u.Groups, a.name)
			case "uids":
				u.UID = a.name
			case "userextras":
				if u.Extra == nil {
					u.Extra = map[string][]string{}
				}
				u.Extra[a.subresource] = append(u.Extra[a.subresource], a.name)
			}
			d, reason, err := z.Authorize(r.Context(), attrs)
			if err != nil || d != authz.Allow {
				log.Debug("impersonation refused", "user", requestor.Name, "resource", a.resource, "name", a.name, "reason", reason, "err", err)
				writeStatus(w, r, forbidden(attrs, reason))
				return
			}
		}
		u.Groups = withAuthenticationGroup(u.Name, u.Groups)
		log.Debug("impersonating", "user", requestor.Name, "as", u.Name, "groups", u.Groups)
		auditImpersonated(r.Context(), u)
		for name := range r.Header {
			if isImpersonationHeader(name) {
				r.Header.Del(name)
			}
		}
		next.ServeHTTP(w, r.WithContext(authn.WithUser(r.Context(), u)))
	})
}

// withAuthenticationGroup adds system:authenticated to the groups of an
// impersonated user, or system:unauthenticated for system:anonymous,
// unless the groups already say which, as upstream.
func withAuthenticationGroup(name string, groups []string) []string {
	if name == authn.Anonymous {
		if !slices.Contains(groups, authn.GroupUnauthenticated) {
			groups = append(groups, authn.GroupUnauthenticated)
		}
		return groups
	}
	if !slices.Contains(groups, authn.GroupAuthenticated) && !slices.Contains(groups, authn.GroupUnauthenticated) {
		groups = append(groups, authn.GroupAuthenticated)
	}
	return groups
}

func isImpersonationHeader(name string) bool {
	switch name {
	case authenticationv1.ImpersonateUserHeader, authenticationv1.ImpersonateGroupHeader, authenticationv1.ImpersonateUIDHeader:
		return true
	}
	return strings.HasPrefix(name, authenticationv1.ImpersonateUserExtraHeaderPrefix)
}

// impersonations returns what the headers ask to impersonate, in upstream's
// order: the user (a service account when its name is one), groups,
// extras (one per value, keys lower-cased and %-decoded), the UID.
func impersonations(h http.Header) ([]impersonation, error) {
	var out []impersonation
	user := h.Get(authenticationv1.ImpersonateUserHeader)
	if user != "" {
		if ns, name, ok := splitServiceAccount(user); ok {
			out = append(out, impersonation{resource: "serviceaccounts", namespace: ns, name: name})
		} else {
			out = append(out, impersonation{resource: "users", name: user})
		}
	}
	others := false
	for _, g := range h.Values(authenticationv1.ImpersonateGroupHeader) {
		out = append(out, impersonation{resource: "groups", name: g})
		others = true
	}
	var extraHeaders []string
	for name := range h {
		if strings.HasPrefix(name, authenticationv1.ImpersonateUserExtraHeaderPrefix) {
			extraHeaders = append(extraHeaders, name)
		}
	}
	slices.Sort(extraHeaders)
	for _, name := range extraHeaders {
		key := strings.ToLower(name[len(authenticationv1.ImpersonateUserExtraHeaderPrefix):])
		if k, err := url.PathUnescape(key); err == nil {
			key = k
		}
		for _, v := range h[name] {
			out = append(out, impersonation{resource: "userextras", subresource: key, group: authenticationv1.GroupName, name: v})
			others = true
		}
	}
	if uid := h.Get(authenticationv1.ImpersonateUIDHeader); uid != "" {
		out = append(out, impersonation{resource: "uids", group: authenticationv1.GroupName, name: uid})
		others = true
	}
	if others && user == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("requested %s without impersonating a user", describe(out)))
	}
	return out, nil
}

// splitServiceAccount returns the namespace and name of a service
// account's user name, as upstream's SplitUsername: both must be valid
// names.
func splitServiceAccount(user string) (ns, name string, ok bool) {
	ns, name, ok = serviceaccount.SplitUsername(user)
	if !ok || len(apivalidation.ValidateNamespaceName(ns, false)) > 0 || len(apivalidation.ValidateServiceAccountName(name, false)) > 0 {
		return "", "", false
	}
	return ns, name, true
}

// describe lists impersonations for an error message.
func describe(as []impersonation) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		s := a.resource + " " + a.name
		if a.subresource != "" {
			s = a.resource + "/" + a.subresource + " " + a.name
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
