// Package authz decides whether an authenticated user may make a request.
// Modes plug in behind Authorizer (AlwaysAllow and AlwaysDeny today; RBAC
// and Node come later); Anonymous restricts system:anonymous to the public
// health and version endpoints, as upstream's default RBAC does.
package authz

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
)

// Decision is an authorizer's answer.
type Decision int

const (
	// NoOpinion lets the next authorizer decide (denied when none does).
	NoOpinion Decision = iota
	Allow
	Deny
)

// Attributes describe a request to authorize.
type Attributes struct {
	User              *authn.User
	Verb              string
	IsResourceRequest bool
	Path              string // non-resource requests
	APIGroup          string
	Namespace         string
	Resource          string
	Subresource       string
	Name              string
	// FieldSelector is the request's raw ?fieldSelector= of a list or
	// watch ("spec.nodeName=a"), "" when none: the Node authorizer lets a
	// kubelet list only the pods bound to it, as upstream's authorizers see
	// field selectors (AuthorizeWithSelectors).
	FieldSelector string
}

// Authorizer decides on a request. Implementations are safe for concurrent
// use; reason explains a denial to the user.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (Decision, string, error)
}

// RuleResolver lists the rules a user holds (RBAC's PolicyRules) in a
// namespace, or cluster-wide for namespace "". Rules from every binding that
// applies are returned, unmerged and in no promised order. A non-nil error
// means the list may be incomplete (a binding's role could not be read):
// the rules returned still hold, as upstream's RulesFor. Used by
// SelfSubjectRulesReview and by RBAC's escalation check.
type RuleResolver interface {
	RulesFor(ctx context.Context, user *authn.User, namespace string) ([]rbacv1.PolicyRule, error)
}

// AlwaysAllow allows everything.
type AlwaysAllow struct{}

func (AlwaysAllow) Authorize(context.Context, Attributes) (Decision, string, error) {
	return Allow, "", nil
}

// AlwaysDeny denies everything.
type AlwaysDeny struct{}

func (AlwaysDeny) Authorize(context.Context, Attributes) (Decision, string, error) {
	return Deny, "Everything is forbidden.", nil
}

// publicPaths may be read by anyone (upstream's system:public-info-viewer).
var publicPaths = []string{"/healthz", "/livez", "/readyz", "/version"}

// Anonymous denies system:anonymous everything but reading the public health
// and version endpoints, and has no opinion on other users.
type Anonymous struct{}

func (Anonymous) Authorize(_ context.Context, a Attributes) (Decision, string, error) {
	if a.User == nil || a.User.Name != authn.Anonymous {
		return NoOpinion, "", nil
	}
	if !a.IsResourceRequest && a.Verb == "get" {
		for _, p := range publicPaths {
			if a.Path == p || strings.HasPrefix(a.Path, p+"/") {
				return Allow, "", nil
			}
		}
	}
	return Deny, "anonymous access is limited to /healthz, /livez, /readyz and /version", nil
}

// Union asks authorizers in order; the first Allow or Deny decides.
type Union []Authorizer

func (u Union) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	for _, z := range u {
		d, reason, err := z.Authorize(ctx, a)
		if err != nil {
			return Deny, "", err
		}
		if d != NoOpinion {
			return d, reason, nil
		}
	}
	return Deny, "no authorizer allowed the request", nil
}

// FromModes builds the authorizer of --authorization-mode (comma-separated),
// with Anonymous first. Unknown or not yet implemented modes are an error.
func FromModes(modes string) (Authorizer, error) {
	u := Union{Anonymous{}}
	for _, m := range strings.Split(modes, ",") {
		switch strings.TrimSpace(m) {
		case "AlwaysAllow":
			u = append(u, AlwaysAllow{})
		case "AlwaysDeny":
			u = append(u, AlwaysDeny{})
		case "RBAC", "Node", "Webhook", "ABAC":
			return nil, fmt.Errorf("authorization mode %q is not implemented by kinc yet (supported: AlwaysAllow, AlwaysDeny)", m)
		default:
			return nil, fmt.Errorf("unknown authorization mode %q (supported: AlwaysAllow, AlwaysDeny)", m)
		}
	}
	return u, nil
}
