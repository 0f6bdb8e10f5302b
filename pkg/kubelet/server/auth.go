package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/daemon/delegated"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// Auth is the kubelet API's authentication and authorization, from the
// KubeletConfiguration's authentication and authorization sections.
type Auth struct {
	// NodeName is the Node every request is authorized against.
	NodeName string
	// ClientCAFile verifies client certificates (authentication.x509);
	// empty: none are accepted.
	ClientCAFile string
	// Anonymous lets requests without credentials in as system:anonymous.
	Anonymous bool
	// Webhook checks bearer tokens with a TokenReview, cached for
	// WebhookCacheTTL (the same for accepted and refused tokens, as
	// upstream's kubelet).
	Webhook         bool
	WebhookCacheTTL time.Duration
	// Mode is "Webhook" (SubjectAccessReview, allowed answers cached for
	// AllowTTL, denied for DenyTTL) or "AlwaysAllow".
	Mode              string
	AllowTTL, DenyTTL time.Duration
	// Client reaches the apiserver for the reviews (nil: no apiserver, so
	// neither Webhook nor Mode "Webhook" is possible).
	Client kubernetes.Interface
	Logger *slog.Logger
}

// Filter builds the filter of the kubelet API: upstream's kubelet answers
// (plain-text "Unauthorized"; "Forbidden (user=…, verb=…, resource=nodes,
// subresource(s)=[…])"), with the request mapped to nodes/<subresource>
// by Attributes.
func (a Auth) Filter() (*delegated.Filter, error) {
	authn := delegated.Authentication{Anonymous: a.Anonymous}
	if a.ClientCAFile != "" {
		pool, err := pki.CertPoolFromFile(a.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("authentication.x509.clientCAFile: %w", err)
		}
		authn.Authenticators = append(authn.Authenticators, delegated.X509{Roots: pool})
	}
	if a.Webhook {
		if a.Client == nil {
			return nil, errors.New("no client provided, cannot use webhook authentication")
		}
		tokens := delegated.NewTokenReview(a.Client.AuthenticationV1().TokenReviews(),
			delegated.TokenReviewOptions{SuccessTTL: a.WebhookCacheTTL, FailureTTL: a.WebhookCacheTTL})
		authn.Authenticators = append(authn.Authenticators, delegated.BearerToken{Tokens: tokens})
	}
	if len(authn.Authenticators) == 0 && !a.Anonymous {
		return nil, errors.New("no authentication method configured (authentication.x509.clientCAFile, authentication.webhook.enabled or authentication.anonymous.enabled)")
	}
	var authz delegated.Authorizer
	switch a.Mode {
	case "AlwaysAllow":
		authz = delegated.AlwaysAllow{}
	case "Webhook":
		if a.Client == nil {
			return nil, errors.New("no client provided, cannot use webhook authorization")
		}
		authz = delegated.NewSubjectAccessReview(a.Client.AuthorizationV1().SubjectAccessReviews(),
			delegated.SubjectAccessReviewOptions{AllowTTL: a.AllowTTL, DenyTTL: a.DenyTTL})
	default:
		return nil, fmt.Errorf("unknown authorization mode %q", a.Mode)
	}
	return &delegated.Filter{Authentication: authn, Authorizer: authz, Attributes: Attributes(a.NodeName),
		Responses: kubeletResponses{}, Logger: a.Logger}, nil
}

// Attributes maps a request to the kubelet API to what it asks, as
// upstream's kubelet (with KubeletFineGrainedAuthz, GA): the method's verb
// (get, create, update, patch, delete) on the node's nodes/<subresource>,
// the subresources tried in order:
//
//	/stats/*             stats
//	/metrics, /metrics/* metrics
//	/logs/*              log
//	/checkpoint/*        checkpoint
//	/pods, /runningpods/ pods, then proxy
//	/healthz             healthz, then proxy
//	/configz             configz, then proxy
//	anything else        proxy (exec, attach, portForward, run,
//	                     containerLogs, spec…)
func Attributes(nodeName string) func(*http.Request, *delegated.User) []delegated.Attributes {
	return func(r *http.Request, u *delegated.User) []delegated.Attributes {
		var subresources []string
		path := r.URL.Path
		switch {
		case isSubpath(path, "/pods"), isSubpath(path, "/runningpods/"):
			subresources = append(subresources, "pods")
		case isSubpath(path, "/healthz"):
			subresources = append(subresources, "healthz")
		case isSubpath(path, "/configz"):
			subresources = append(subresources, "configz")
		}
		switch {
		case isSubpath(path, "/stats/"):
			subresources = append(subresources, "stats")
		case isSubpath(path, "/metrics"):
			subresources = append(subresources, "metrics")
		case isSubpath(path, "/logs/"):
			subresources = append(subresources, "log")
		case isSubpath(path, "/checkpoint/"):
			subresources = append(subresources, "checkpoint")
		case isSubpath(path, "/statusz"):
			subresources = append(subresources, "statusz")
		case isSubpath(path, "/flagz"):
			subresources = append(subresources, "configz")
		default:
			subresources = append(subresources, "proxy")
		}
		verb := map[string]string{http.MethodPost: "create", http.MethodGet: "get", http.MethodPut: "update",
			http.MethodPatch: "patch", http.MethodDelete: "delete"}[r.Method]
		attrs := make([]delegated.Attributes, len(subresources))
		for i, sub := range subresources {
			attrs[i] = delegated.Attributes{User: u, Verb: verb, ResourceRequest: true, APIVersion: "v1", Resource: "nodes",
				Subresource: sub, Name: nodeName, Path: path}
		}
		return attrs
	}
}

// isSubpath reports whether sub is path or below it.
func isSubpath(sub, path string) bool {
	path = strings.TrimSuffix(path, "/")
	return sub == path || (strings.HasPrefix(sub, path) && sub[len(path)] == '/')
}

// kubeletResponses are upstream's kubelet refusals, in plain text.
type kubeletResponses struct{}

func (kubeletResponses) Unauthorized(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusUnauthorized, "Unauthorized")
}

func (kubeletResponses) Forbidden(w http.ResponseWriter, _ *http.Request, attrs []delegated.Attributes, _ string) {
	subs := make([]string, len(attrs))
	for i, a := range attrs {
		subs[i] = a.Subresource
	}
	a := attrs[0]
	writeText(w, http.StatusForbidden, fmt.Sprintf("Forbidden (user=%s, verb=%s, resource=%s, subresource(s)=%v)\n", a.User.Name, a.Verb, a.Resource, subs))
}

func (kubeletResponses) Error(w http.ResponseWriter, _ *http.Request, a delegated.Attributes, _ error) {
	writeText(w, http.StatusInternalServerError, fmt.Sprintf("Authorization error (user=%s, verb=%s, resource=%s, subresource=%s)", a.User.Name, a.Verb, a.Resource, a.Subresource))
}
