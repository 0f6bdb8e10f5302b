// Package authz decides whether an authenticated user may make a request.
// Modes plug in behind Authorizer: AlwaysAllow and AlwaysDeny here, RBAC
// (authz/rbac) and Node (authz/node) in their packages; the server chains
// them as --authorization-mode says.
package authz

import (
	"context"

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
