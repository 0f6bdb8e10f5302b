// Package filters holds the HTTP middleware every apiserver request passes
// through, outermost first: panic recovery, the audit ID, request info,
// failed-authentication audit, authentication, audit, impersonation, the
// in-flight limit and authorization.
package filters

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
)

type ctxKey int

const infoKey ctxKey = 0

// UserFrom returns the authenticated user of a request's context
// (authn.UserFrom).
func UserFrom(ctx context.Context) (*authn.User, bool) { return authn.UserFrom(ctx) }

// RequestInfoFrom returns the parsed request info of a request's context.
func RequestInfoFrom(ctx context.Context) (handlers.RequestInfo, bool) {
	i, ok := ctx.Value(infoKey).(handlers.RequestInfo)
	return i, ok
}

// WithPanicRecovery answers a panicking handler with a 500 Status and logs
// the panic with its stack. http.ErrAbortHandler is re-raised, as net/http
// expects.
func WithPanicRecovery(next http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				writeStatus(w, r, apierrors.NewInternalError(fmt.Errorf("the server panicked serving the request: %v", p)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// WithRequestInfo parses the request's URL once for the filters after it.
func WithRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := handlers.ParseRequestInfo(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey, info)))
	})
}

// WithAuthentication authenticates the request. Invalid credentials, or none
// while anonymous access is disabled, are a 401 Status.
func WithAuthentication(next http.Handler, a authn.Authenticator, anonymous bool, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok, err := a.AuthenticateRequest(r)
		if err != nil {
			log.Debug("authentication failed", "path", r.URL.Path, "err", err)
		}
		if !ok {
			if err != nil || !anonymous {
				writeStatus(w, r, apierrors.NewUnauthorized("Unauthorized"))
				return
			}
			user = &authn.User{Name: authn.Anonymous, Groups: []string{authn.GroupUnauthenticated}}
		}
		// Credentials stop here: handlers and proxies never see them.
		r.Header.Del("Authorization")
		next.ServeHTTP(w, r.WithContext(authn.WithUser(r.Context(), user)))
	})
}

// WithAuthorization asks z about the request; a denial is a 403 Status
// phrased as upstream's, and an authorizer's error without an Allow a 500.
func WithAuthorization(next http.Handler, z authz.Authorizer, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := RequestInfoFrom(r.Context())
		user, _ := UserFrom(r.Context())
		attrs := authz.Attributes{User: user, Verb: info.Verb, IsResourceRequest: info.IsResourceRequest, Path: r.URL.Path,
			APIGroup: info.APIGroup, Namespace: info.Namespace, Resource: info.Resource, Subresource: info.Subresource, Name: info.Name}
		if info.Verb == "list" || info.Verb == "watch" {
			attrs.FieldSelector = r.URL.Query().Get("fieldSelector")
		}
		d, reason, err := z.Authorize(r.Context(), attrs)
		if d == authz.Allow && err == nil && needsCreate(attrs) {
			// As upstream's AuthorizePodWebsocketUpgradeCreatePermission
			// (on by default since 1.35): a WebSocket exec, attach or
			// port-forward is a GET, yet it runs commands as POST does.
			attrs.Verb = "create"
			d, reason, err = z.Authorize(r.Context(), attrs)
		}
		if err != nil {
			log.Error("authorization error", "path", r.URL.Path, "err", err)
		}
		if d == authz.Allow {
			auditAnnotate(r.Context(), decisionAnnotation, "allow", reasonAnnotation, reason)
			next.ServeHTTP(w, r)
			return
		}
		if err != nil {
			// As upstream: an authorizer that failed is the server's fault
			// (500), not a decision about the user (403).
			auditAnnotate(r.Context(), reasonAnnotation, "internal error")
			writeStatus(w, r, apierrors.NewInternalError(fmt.Errorf("authorization failed: %w", err)))
			return
		}
		auditAnnotate(r.Context(), decisionAnnotation, "forbid", reasonAnnotation, reason)
		writeStatus(w, r, forbidden(attrs, reason))
	})
}

// needsCreate reports whether a request also needs the create verb: a GET
// of pods/exec, pods/attach or pods/portforward.
func needsCreate(a authz.Attributes) bool {
	if !a.IsResourceRequest || a.Verb != "get" || a.APIGroup != "" || a.Resource != "pods" {
		return false
	}
	switch a.Subresource {
	case "exec", "attach", "portforward":
		return true
	}
	return false
}

func forbidden(a authz.Attributes, reason string) error {
	name := "<unknown>"
	if a.User != nil {
		name = a.User.Name
	}
	var msg string
	if a.IsResourceRequest {
		res := a.Resource
		if a.Subresource != "" {
			res += "/" + a.Subresource
		}
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q", name, a.Verb, res, a.APIGroup)
		if a.Namespace != "" {
			msg += fmt.Sprintf(" in the namespace %q", a.Namespace)
		} else {
			msg += " at the cluster scope"
		}
	} else {
		msg = fmt.Sprintf("User %q cannot %s path %q", name, a.Verb, a.Path)
	}
	if reason != "" {
		msg += ": " + reason
	}
	return apierrors.NewForbidden(schema.GroupResource{Group: a.APIGroup, Resource: a.Resource}, a.Name, fmt.Errorf("%s", msg))
}

// WithMaxInFlight bounds concurrent requests: mutating ones (create, update,
// patch, delete) by maxMutating, others by maxReadOnly; over the limit the
// answer is 429 with Retry-After: 1. Long-running requests (watch, logs,
// exec, proxy) are not counted, as upstream. A limit of 0 disables it.
func WithMaxInFlight(next http.Handler, maxReadOnly, maxMutating int) http.Handler {
	var readOnly, mutating chan struct{}
	if maxReadOnly > 0 {
		readOnly = make(chan struct{}, maxReadOnly)
	}
	if maxMutating > 0 {
		mutating = make(chan struct{}, maxMutating)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := RequestInfoFrom(r.Context())
		if isLongRunning(info) {
			next.ServeHTTP(w, r)
			return
		}
		sem := readOnly
		switch info.Verb {
		case "create", "update", "patch", "delete", "deletecollection", "post", "put":
			sem = mutating
		}
		if sem == nil {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
			next.ServeHTTP(w, r)
		default:
			writeStatus(w, r, apierrors.NewTooManyRequests("Too many requests, please try again later.", 1))
		}
	})
}

func isLongRunning(info handlers.RequestInfo) bool {
	if info.Verb == "watch" {
		return true
	}
	switch info.Subresource {
	case "log", "exec", "attach", "portforward", "proxy":
		return true
	}
	return false
}

func writeStatus(w http.ResponseWriter, r *http.Request, err error) {
	handlers.WriteError(w, r, err)
}

// WithRequestLog logs every request at debug level (--v=4 and up): verb,
// path, user, status and latency, as upstream's httplog does at -v=3.
func WithRequestLog(next http.Handler, log *slog.Logger) http.Handler {
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		user := ""
		if u, ok := UserFrom(r.Context()); ok {
			user = u.Name
		}
		log.Debug("HTTP", "verb", r.Method, "URI", r.URL.RequestURI(), "user", user, "status", rec.status,
			"latency", time.Since(start), "userAgent", r.UserAgent())
	})
}

// statusRecorder remembers the status code; it keeps Flush working for
// watches and log streams.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to an upgraded protocol (exec, attach,
// port-forward, proxied WebSockets), which then records 101.
func (s *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("the response writer %T cannot be hijacked", s.ResponseWriter)
	}
	s.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

// Unwrap gives http.ResponseController the writer underneath.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
