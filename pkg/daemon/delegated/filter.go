package delegated

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Filter puts authentication and authorization in front of a handler, as
// upstream's secure serving chain: a request whose credentials are
// missing (without Anonymous) or invalid is refused with 401; one no
// Attributes of which Authorizer allows with 403; one Authorizer could
// not decide with 500. Handlers behind it find the user with UserFrom.
type Filter struct {
	Authentication Authentication
	Authorizer     Authorizer
	// Attributes lists what a request asks to do, tried in order: the
	// first allowed lets it through (the kubelet asks nodes/pods before
	// nodes/proxy). Nil: NonResource, the method on the path.
	Attributes func(r *http.Request, u *User) []Attributes
	// Responses writes the refusals (nil: APIStatus, the apiserver's).
	Responses Responses
	// Logger logs refusals at debug level and errors (nil: discarded).
	Logger *slog.Logger
}

// Responses write a Filter's refusals.
type Responses interface {
	// Unauthorized answers a request without valid credentials (401).
	Unauthorized(w http.ResponseWriter, r *http.Request)
	// Forbidden answers a denied request (403); attrs are all that were
	// asked (at least one), reason the authorizer's last.
	Forbidden(w http.ResponseWriter, r *http.Request, attrs []Attributes, reason string)
	// Error answers a request no decision could be made for (500).
	Error(w http.ResponseWriter, r *http.Request, a Attributes, err error)
}

// Wrap returns h behind the filter.
func (f Filter) Wrap(h http.Handler) http.Handler {
	resp := f.Responses
	if resp == nil {
		resp = APIStatus{}
	}
	logger := f.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	attributes := f.Attributes
	if attributes == nil {
		attributes = func(r *http.Request, u *User) []Attributes { return []Attributes{NonResource(u, r.Method, r.URL.Path)} }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := f.Authentication.AuthenticateRequest(r)
		if err != nil {
			if !errors.Is(err, ErrNoCredentials) {
				logger.Debug("unable to authenticate the request", "path", r.URL.Path, "err", err)
			}
			resp.Unauthorized(w, r)
			return
		}
		attrs := attributes(r, u)
		var reason string
		for _, a := range attrs {
			ok, why, err := f.Authorizer.Authorize(r.Context(), a)
			if err != nil {
				logger.Error("authorization error", "user", u.Name, "verb", a.Verb, "resource", a.Resource, "subresource", a.Subresource, "path", a.Path, "err", err)
				resp.Error(w, r, a, err)
				return
			}
			if ok {
				h.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
				return
			}
			if why != "" {
				reason = why
			}
		}
		if len(attrs) == 0 {
			attrs = []Attributes{NonResource(u, r.Method, r.URL.Path)}
		}
		logger.Debug("forbidden", "user", u.Name, "verb", attrs[0].Verb, "resource", attrs[0].Resource, "path", r.URL.Path, "reason", reason)
		resp.Forbidden(w, r, attrs, reason)
	})
}

// APIStatus answers as the apiserver's generic filters: a Status JSON
// with 401 "Unauthorized" or 403 "forbidden: User "u" cannot get path
// "/metrics"", and a plain 500 "Internal Server Error: "<uri>": <err>".
type APIStatus struct{}

// Unauthorized implements Responses.
func (APIStatus) Unauthorized(w http.ResponseWriter, _ *http.Request) {
	writeStatus(w, apierrors.NewUnauthorized("Unauthorized"))
}

// Forbidden implements Responses.
func (APIStatus) Forbidden(w http.ResponseWriter, _ *http.Request, attrs []Attributes, reason string) {
	a := attrs[0]
	msg := ForbiddenMessage(a)
	if reason != "" {
		msg += ": " + reason
	}
	writeStatus(w, apierrors.NewForbidden(schema.GroupResource{Group: a.APIGroup, Resource: a.Resource}, a.Name, errors.New(msg)))
}

// Error implements Responses.
func (APIStatus) Error(w http.ResponseWriter, r *http.Request, _ Attributes, err error) {
	http.Error(w, fmt.Sprintf("Internal Server Error: %q: %v", r.RequestURI, err), http.StatusInternalServerError)
}

// ForbiddenMessage is upstream's wording of a denial: `User "u" cannot get
// path "/metrics"`, or for a resource `User "u" cannot get resource
// "nodes/proxy" in API group "" at the cluster scope` (… in the namespace
// "ns").
func ForbiddenMessage(a Attributes) string {
	name := ""
	if a.User != nil {
		name = a.User.Name
	}
	if !a.ResourceRequest {
		return fmt.Sprintf("User %q cannot %s path %q", name, a.Verb, a.Path)
	}
	resource := a.Resource
	if a.Subresource != "" {
		resource += "/" + a.Subresource
	}
	if a.Namespace != "" {
		return fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", name, a.Verb, resource, a.APIGroup, a.Namespace)
	}
	return fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", name, a.Verb, resource, a.APIGroup)
}

func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	st := err.Status()
	st.Kind, st.APIVersion = "Status", "v1"
	data, _ := json.Marshal(st)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(int(st.Code))
	_, _ = w.Write(append(data, '\n'))
}
