package filters

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/utils/clock"
	"sigs.k8s.io/yaml"

	"github.com/kinc-dev/kinc/pkg/apiserver/audit"
	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
)

// AuditIDHeader carries a request's audit ID, in the request (a client may
// choose it) and in every response, as upstream.
const AuditIDHeader = "Audit-ID"

// The annotations WithAuthorization adds to audit events, as upstream.
const (
	decisionAnnotation = "authorization.k8s.io/decision"
	reasonAnnotation   = "authorization.k8s.io/reason"
)

// maxAuditedBody bounds the request and error bodies the audit filter
// keeps (the apiserver refuses larger requests anyway).
const maxAuditedBody = 3 << 20

type auditIDKey struct{}
type auditRecordKey struct{}

// AuditSink receives audit events; Write must be safe for concurrent use
// and must not keep ev after it returns (audit.Log is one).
type AuditSink interface {
	Write(ev *audit.Event) error
}

// AuditIDFrom returns the audit ID of a request's context.
func AuditIDFrom(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(auditIDKey{}).(string)
	return id, ok
}

// WithAuditID gives every request an audit ID, the client's Audit-ID
// header if it sent one and a new UUID otherwise, and answers it in the
// Audit-ID response header, auditing on or off, as upstream.
func WithAuditID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimSpace(r.Header.Get(AuditIDHeader))
		if id == "" {
			id = string(uuid.NewUUID())
		}
		w.Header().Set(AuditIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), auditIDKey{}, id)))
	})
}

// WithAudit records each request policy does not give LevelNone into
// sink, as upstream's audit filter: a RequestReceived event first, a
// ResponseStarted one when a long-running request (watch, logs, exec,
// port-forward, proxy) sends its headers, then ResponseComplete, or Panic
// (and the panic goes on). Bodies are recorded as JSON in the final event:
// the request's at level Request and up for create, update and patch, as
// far as the handler read it (a refused request's is not), the response's at
// RequestResponse except for long-running requests; a failure's Status
// fills responseStatus at every level. Protobuf bodies are not recorded.
// It goes after WithAuthentication, so the policy sees the authenticated
// user, and before WithImpersonation and WithAuthorization, which add the
// impersonated user and the authorization decision. A nil policy or sink
// turns auditing off.
func WithAudit(next http.Handler, policy *audit.Policy, sink AuditSink, c clock.PassiveClock, log *slog.Logger) http.Handler {
	if policy == nil || sink == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen, ok := r.Context().Value(authenticatedKey{}).(*bool); ok {
			*seen = true
		}
		info, _ := RequestInfoFrom(r.Context())
		user, _ := UserFrom(r.Context())
		rec := newAuditRecord(r, info, user, policy, sink, c, log)
		if rec == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec.emit(audit.StageRequestReceived)
		// The body the handler reads (after authorization, as upstream's
		// decoding) is kept as it goes by.
		var tee *teeBody
		if info.IsResourceRequest && !rec.cfg.Level.Less(audit.LevelRequest) && r.Body != nil && r.Body != http.NoBody {
			switch info.Verb {
			case "create", "update", "patch":
				tee = &teeBody{ReadCloser: r.Body}
				r.Body = tee
			}
		}

		longRunning := isLongRunning(info)
		aw := &auditWriter{ResponseWriter: w, rec: rec, longRunning: longRunning}
		defer func() {
			if p := recover(); p != nil {
				rec.mu.Lock()
				rec.ev.ResponseStatus = &metav1.Status{Code: http.StatusInternalServerError, Status: metav1.StatusFailure,
					Reason: metav1.StatusReasonInternalError, Message: fmt.Sprintf("APIServer panic'd: %v", p)}
				rec.mu.Unlock()
				rec.emit(audit.StagePanic)
				panic(p)
			}
			rec.mu.Lock()
			if tee != nil && !tee.tooLong {
				rec.recordRequestBody(r.Header.Get("Content-Type"), tee.buf.Bytes())
			}
			if rec.ev.ResponseStatus == nil {
				// Nothing was written: upstream fakes a success.
				rec.ev.ResponseStatus = &metav1.Status{Code: http.StatusOK, Status: metav1.StatusSuccess, Message: "Connection closed early"}
				if longRunning {
					rec.emitLocked(audit.StageResponseStarted)
				}
			}
			aw.recordResponseBody()
			rec.emitLocked(audit.StageResponseComplete)
			rec.mu.Unlock()
		}()
		next.ServeHTTP(aw, r.WithContext(context.WithValue(r.Context(), auditRecordKey{}, rec)))
	})
}

type authenticatedKey struct{}

// WithFailedAuthenticationAudit records the requests WithAuthentication
// refuses (401), as upstream: one ResponseStarted event, without a user,
// whose responseStatus says which credentials were tried, at the level
// the policy gives an unauthenticated request. It goes right outside
// WithAuthentication, with WithAudit right inside it; a nil policy or sink
// turns it off.
func WithFailedAuthenticationAudit(next http.Handler, policy *audit.Policy, sink AuditSink, c clock.PassiveClock, log *slog.Logger) http.Handler {
	if policy == nil || sink == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		msg := authFailedMessage(r)
		authenticated := new(bool)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), authenticatedKey{}, authenticated)))
		if *authenticated {
			return
		}
		info, _ := RequestInfoFrom(r.Context())
		rec := newAuditRecord(r, info, nil, policy, sink, c, log)
		if rec == nil {
			return
		}
		rec.ev.ResponseStatus = &metav1.Status{Code: http.StatusUnauthorized, Message: msg}
		rec.emit(audit.StageResponseStarted)
	})
}

// authFailedMessage names the credentials a request carries, as upstream.
func authFailedMessage(r *http.Request) string {
	var methods []string
	if _, _, ok := r.BasicAuth(); ok {
		methods = append(methods, "basic")
	}
	if parts := strings.Split(strings.TrimSpace(r.Header.Get("Authorization")), " "); len(parts) > 1 && strings.ToLower(parts[0]) == "bearer" {
		methods = append(methods, "bearer")
	}
	if strings.TrimSpace(r.URL.Query().Get("access_token")) != "" {
		methods = append(methods, "access_token")
	}
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		methods = append(methods, "x509")
	}
	if len(methods) == 0 {
		return "Authentication failed, no credentials provided"
	}
	return "Authentication failed, attempted: " + strings.Join(methods, ", ")
}

// newAuditRecord starts the event of a request, nil if the policy gives it
// LevelNone.
func newAuditRecord(r *http.Request, info handlers.RequestInfo, user *authn.User, policy *audit.Policy, sink AuditSink,
	c clock.PassiveClock, log *slog.Logger) *auditRecord {
	cfg := policy.Evaluate(authz.Attributes{User: user, Verb: info.Verb, IsResourceRequest: info.IsResourceRequest,
		Path: r.URL.Path, APIGroup: info.APIGroup, Namespace: info.Namespace, Resource: info.Resource,
		Subresource: info.Subresource, Name: info.Name})
	if cfg.Level == audit.LevelNone {
		return nil
	}
	id, _ := AuditIDFrom(r.Context())
	rec := &auditRecord{cfg: cfg, sink: sink, clock: c, log: log, ev: audit.Event{
		TypeMeta:                 metav1.TypeMeta{Kind: "Event", APIVersion: audit.GroupVersion},
		Level:                    cfg.Level,
		AuditID:                  types.UID(id),
		RequestURI:               r.URL.RequestURI(),
		Verb:                     info.Verb,
		User:                     userInfo(user),
		SourceIPs:                sourceIPs(r),
		UserAgent:                r.UserAgent(),
		RequestReceivedTimestamp: metav1.NewMicroTime(c.Now()),
	}}
	if info.IsResourceRequest {
		rec.ev.ObjectRef = &audit.ObjectReference{Resource: info.Resource, Namespace: info.Namespace, Name: info.Name,
			APIGroup: info.APIGroup, APIVersion: info.APIVersion, Subresource: info.Subresource}
	}
	return rec
}

// auditRecord is a request's event while it is served; the filters after
// WithAudit annotate it through the request context.
type auditRecord struct {
	cfg   audit.RequestConfig
	sink  AuditSink
	clock clock.PassiveClock
	log   *slog.Logger

	mu sync.Mutex
	ev audit.Event
}

func (a *auditRecord) emit(s audit.Stage) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.emitLocked(s)
}

func (a *auditRecord) emitLocked(s audit.Stage) {
	if a.cfg.Omits(s) {
		return
	}
	a.ev.Stage = s
	a.ev.StageTimestamp = metav1.NewMicroTime(a.clock.Now())
	if err := a.sink.Write(&a.ev); err != nil {
		a.log.Error("audit event lost", "auditID", a.ev.AuditID, "stage", s, "err", err)
	}
}

// recordRequestBody keeps a JSON (or apply YAML) request body as the
// requestObject and names the object in objectRef from its metadata, as
// upstream does with the decoded object; a.mu is held.
func (a *auditRecord) recordRequestBody(contentType string, body []byte) {
	if len(body) == 0 {
		return
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "", "application/json", "application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json":
	case "application/apply-patch+yaml", "application/yaml":
		var err error
		if body, err = yaml.YAMLToJSON(body); err != nil {
			return
		}
	default:
		return // protobuf and the like
	}
	if !json.Valid(body) {
		return
	}
	var obj struct {
		Metadata struct {
			Name, Namespace, ResourceVersion string
			UID                              types.UID
		}
	}
	if json.Unmarshal(body, &obj) == nil {
		ref, m := a.ev.ObjectRef, obj.Metadata
		ref.Name = cmpOr(ref.Name, m.Name)
		ref.Namespace = cmpOr(ref.Namespace, m.Namespace)
		ref.UID = cmpOr(ref.UID, m.UID)
		ref.ResourceVersion = cmpOr(ref.ResourceVersion, m.ResourceVersion)
	}
	if a.cfg.OmitManagedFields {
		body = withoutManagedFields(body)
	}
	a.ev.RequestObject = json.RawMessage(bytes.Clone(body))
}

func cmpOr[T ~string](a, b T) T {
	if a != "" {
		return a
	}
	return b
}

// teeBody keeps what the handler reads of a request body, up to
// maxAuditedBody.
type teeBody struct {
	io.ReadCloser
	buf     bytes.Buffer
	tooLong bool
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if !t.tooLong {
		if t.buf.Len()+n > maxAuditedBody {
			t.tooLong = true
			t.buf = bytes.Buffer{}
		} else {
			t.buf.Write(p[:n])
		}
	}
	return n, err
}

// auditWriter sees the response: its code, and the body when it is kept.
type auditWriter struct {
	http.ResponseWriter
	rec         *auditRecord
	longRunning bool

	once    sync.Once
	keep    bool // buffer the body
	yaml    bool // the body is YAML (?as YAML for kubectl's Accept)
	full    bool // the whole body is wanted (RequestResponse)
	body    bytes.Buffer
	tooLong bool
}

func (w *auditWriter) started(code int) {
	w.once.Do(func() {
		w.rec.mu.Lock()
		defer w.rec.mu.Unlock()
		w.rec.ev.ResponseStatus = &metav1.Status{Code: int32(code)}
		if w.longRunning {
			w.rec.emitLocked(audit.StageResponseStarted)
			return
		}
		mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
		w.full = !w.rec.cfg.Level.Less(audit.LevelRequestResponse)
		w.yaml = mt == "application/yaml"
		w.keep = (mt == "application/json" || w.yaml) && (w.full || code >= 400)
	})
}

func (w *auditWriter) WriteHeader(code int) {
	w.started(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *auditWriter) Write(p []byte) (int, error) {
	w.started(http.StatusOK)
	if w.keep && !w.tooLong {
		if !w.full && w.body.Len()+len(p) > maxAuditedBody {
			w.tooLong = true
		} else {
			w.body.Write(p)
		}
	}
	return w.ResponseWriter.Write(p)
}

// recordResponseBody fills responseStatus from a Status body and, at
// RequestResponse, responseObject; rec.mu is held.
func (w *auditWriter) recordResponseBody() {
	if !w.keep || w.tooLong {
		return
	}
	body := w.body.Bytes()
	if w.yaml {
		var err error
		if body, err = yaml.YAMLToJSON(body); err != nil {
			return
		}
	}
	if !json.Valid(body) {
		return
	}
	var st metav1.Status
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
		w.rec.ev.ResponseStatus = &metav1.Status{Status: st.Status, Message: st.Message, Reason: st.Reason,
			Details: st.Details, Code: st.Code}
	}
	if w.full {
		if w.rec.cfg.OmitManagedFields {
			body = withoutManagedFields(body)
		}
		w.rec.ev.ResponseObject = json.RawMessage(bytes.Clone(body))
	}
}

func (w *auditWriter) Flush() {
	w.started(http.StatusOK)
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection to an upgraded protocol (exec, attach,
// port-forward): the response started with 101.
func (w *auditWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("the response writer %T cannot be hijacked", w.ResponseWriter)
	}
	w.started(http.StatusSwitchingProtocols)
	return h.Hijack()
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *auditWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// withoutManagedFields drops metadata.managedFields from an object, or
// from each item of a list; other JSON is returned as is.
func withoutManagedFields(body []byte) []byte {
	var obj map[string]any
	if json.Unmarshal(body, &obj) != nil {
		return body
	}
	strip := func(o any) bool {
		m, _ := o.(map[string]any)
		md, _ := m["metadata"].(map[string]any)
		if _, ok := md["managedFields"]; ok {
			delete(md, "managedFields")
			return true
		}
		return false
	}
	changed := strip(obj)
	if items, ok := obj["items"].([]any); ok {
		for _, it := range items {
			changed = strip(it) || changed
		}
	}
	if !changed {
		return body
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return body
	}
	return out
}

func auditRecordFrom(ctx context.Context) *auditRecord {
	rec, _ := ctx.Value(auditRecordKey{}).(*auditRecord)
	return rec
}

// auditAnnotate adds annotations (key, value pairs) to the request's audit
// event, if it is audited.
func auditAnnotate(ctx context.Context, kv ...string) {
	rec := auditRecordFrom(ctx)
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.ev.Annotations == nil {
		rec.ev.Annotations = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		rec.ev.Annotations[kv[i]] = kv[i+1]
	}
}

// auditImpersonated records the user a request impersonates.
func auditImpersonated(ctx context.Context, u *authn.User) {
	rec := auditRecordFrom(ctx)
	if rec == nil {
		return
	}
	ui := userInfo(u)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.ev.ImpersonatedUser = &ui
}

func userInfo(u *authn.User) authenticationv1.UserInfo {
	if u == nil {
		return authenticationv1.UserInfo{}
	}
	ui := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		ui.Extra = make(map[string]authenticationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			ui.Extra[k] = v
		}
	}
	return ui
}

// sourceIPs lists the client's addresses as upstream: X-Forwarded-For,
// else X-Real-Ip, then the connection's peer unless it is already last.
func sourceIPs(r *http.Request) []string {
	var ips []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, p := range strings.Split(h, ",") {
			if ip := net.ParseIP(strings.TrimSpace(p)); ip != nil {
				ips = append(ips, ip.String())
			}
		}
	}
	if len(ips) == 0 {
		if ip := net.ParseIP(strings.TrimSpace(r.Header.Get("X-Real-Ip"))); ip != nil {
			ips = append(ips, ip.String())
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && (len(ips) == 0 || ips[len(ips)-1] != ip.String()) {
		ips = append(ips, ip.String())
	}
	return ips
}
