package delegated

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/utils/clock"
)

// Attributes are what a request asks to do, as a SubjectAccessReview
// states it: a resource request (Verb on Resource/Subresource Name in
// Namespace) or a non-resource one (Verb on Path).
type Attributes struct {
	User            *User
	Verb            string
	ResourceRequest bool
	Namespace       string
	APIGroup        string
	APIVersion      string
	Resource        string
	Subresource     string
	Name            string
	// Path is the request's path (the non-resource URL).
	Path string
}

// NonResource returns the attributes of a request to a path outside the
// API, as upstream's request info: the verb is the lower-cased method.
func NonResource(u *User, method, path string) Attributes {
	return Attributes{User: u, Verb: strings.ToLower(method), Path: path}
}

// Authorizer decides whether a request may proceed. allowed=false with no
// error is a denial (reason may say why); an error means no decision
// could be made (the request then fails with 500, as upstream).
// Implementations are safe for concurrent use.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (allowed bool, reason string, err error)
}

// AlwaysAllow allows everything (the kubelet's authorization mode
// AlwaysAllow).
type AlwaysAllow struct{}

// Authorize implements Authorizer.
func (AlwaysAllow) Authorize(context.Context, Attributes) (bool, string, error) { return true, "", nil }

// SubjectAccessReview authorizes by asking the apiserver for a
// SubjectAccessReview, as upstream's webhook authorizer. Answers are
// cached by the review's spec: allowed for AllowTTL, denied for DenyTTL;
// errors are not cached. Safe for concurrent use once built with
// NewSubjectAccessReview.
type SubjectAccessReview struct {
	client authorizationv1client.SubjectAccessReviewInterface
	opts   SubjectAccessReviewOptions
	cache  *ttlCache[decision]
}

type decision struct {
	allowed bool
	reason  string
}

// SubjectAccessReviewOptions tune a SubjectAccessReview.
type SubjectAccessReviewOptions struct {
	// AllowTTL and DenyTTL are how long allowed and denied answers are
	// cached (0: not cached). Upstream's scheduler and controller-manager
	// cache both for 10s; the kubelet 5m and 30s
	// (authorization.webhook.cacheAuthorizedTTL/cacheUnauthorizedTTL).
	AllowTTL, DenyTTL time.Duration
	// Timeout bounds one review (10s when zero).
	Timeout time.Duration
	// Retry is the backoff between attempts (DefaultRetry when Steps is zero).
	Retry Retry
	// Clock is the cache's clock (the real one when nil).
	Clock clock.Clock
}

// NewSubjectAccessReview returns a SubjectAccessReview asking client.
func NewSubjectAccessReview(client authorizationv1client.SubjectAccessReviewInterface, opts SubjectAccessReviewOptions) *SubjectAccessReview {
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Retry.Steps == 0 {
		opts.Retry = DefaultRetry
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &SubjectAccessReview{client: client, opts: opts, cache: newTTLCache[decision](opts.Clock)}
}

// Spec is the SubjectAccessReview spec that asks about a.
func Spec(a Attributes) authorizationv1.SubjectAccessReviewSpec {
	var spec authorizationv1.SubjectAccessReviewSpec
	if u := a.User; u != nil {
		spec.User, spec.UID, spec.Groups = u.Name, u.UID, slices.Clone(u.Groups)
		if len(u.Extra) > 0 {
			spec.Extra = map[string]authorizationv1.ExtraValue{}
			for k, v := range u.Extra {
				spec.Extra[k] = slices.Clone(v)
			}
		}
	}
	if a.ResourceRequest {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb, Group: a.APIGroup,
			Version: a.APIVersion, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}
	} else {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
	}
	return spec
}

// Authorize implements Authorizer.
func (s *SubjectAccessReview) Authorize(ctx context.Context, a Attributes) (bool, string, error) {
	spec := Spec(a)
	keyBytes, err := json.Marshal(spec)
	if err != nil {
		return false, "", err
	}
	key := string(keyBytes)
	if d, ok := s.cache.get(key); ok {
		return d.allowed, d.reason, nil
	}
	var result *authorizationv1.SubjectAccessReview
	err = s.opts.Retry.do(ctx, s.opts.Clock, func() error {
		rctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
		var err error
		result, err = s.client.Create(rctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return false, "", fmt.Errorf("SubjectAccessReview: %w", err)
	}
	st := result.Status
	d := decision{allowed: st.Allowed && !st.Denied, reason: st.Reason}
	ttl := s.opts.DenyTTL
	if d.allowed {
		ttl = s.opts.AllowTTL
	}
	s.cache.set(key, d, ttl)
	return d.allowed, d.reason, nil
}

// Paths allows requests to the paths it lists, whatever the user
// (upstream's --authorization-always-allow-paths): an entry ending in "*"
// is a prefix, any other is matched exactly.
type Paths []string

// Authorize implements Authorizer; it denies (without a reason) what it
// does not allow.
func (p Paths) Authorize(_ context.Context, a Attributes) (bool, string, error) {
	if a.ResourceRequest {
		return false, "", nil
	}
	for _, path := range p {
		if prefix, ok := strings.CutSuffix(path, "*"); ok {
			if strings.HasPrefix(a.Path, prefix) {
				return true, "", nil
			}
		} else if a.Path == path {
			return true, "", nil
		}
	}
	return false, "", nil
}

// Groups allows every request of a user in one of its groups (upstream's
// always-allowed system:masters).
type Groups []string

// Authorize implements Authorizer.
func (g Groups) Authorize(_ context.Context, a Attributes) (bool, string, error) {
	for _, group := range g {
		if a.User.InGroup(group) {
			return true, "", nil
		}
	}
	return false, "", nil
}

// Union asks each authorizer in turn: the first that allows decides.
// Errors are remembered and returned, with the last reason, when none
// allows (so a failed review is a 500, not a 403, as upstream's union).
type Union []Authorizer

// Authorize implements Authorizer.
func (u Union) Authorize(ctx context.Context, a Attributes) (bool, string, error) {
	var errs []error
	var reason string
	for _, az := range u {
		ok, r, err := az.Authorize(ctx, a)
		if ok {
			return true, r, nil
		}
		if err != nil {
			errs = append(errs, err)
		}
		if r != "" {
			reason = r
		}
	}
	if len(errs) > 0 {
		return false, reason, errors.Join(errs...)
	}
	return false, reason, nil
}
