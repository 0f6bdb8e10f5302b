// Package audit holds the apiserver's audit logging as upstream's: the
// audit.k8s.io/v1 Policy (loaded from --audit-policy-file and matched rule
// by rule, first match wins), the audit.k8s.io/v1 Event written for each
// stage of a request, and the JSON-lines log (--audit-log-path) with
// size-based rotation. The HTTP filter that builds events is
// filters.WithAudit.
//
// The types are ours, with upstream's JSON field names, so that events
// read like upstream's: k8s.io/apiserver is not a dependency of kinc.
package audit

import (
	"encoding/json"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// GroupVersion is the only policy and event version, as upstream since 1.24.
const GroupVersion = "audit.k8s.io/v1"

// Level says how much of a request is recorded.
type Level string

// The levels, least first.
const (
	// LevelNone records nothing.
	LevelNone Level = "None"
	// LevelMetadata records who, what, when and the response code, no bodies.
	LevelMetadata Level = "Metadata"
	// LevelRequest adds the request body.
	LevelRequest Level = "Request"
	// LevelRequestResponse adds the response body.
	LevelRequestResponse Level = "RequestResponse"
)

func (l Level) ord() int {
	switch l {
	case LevelMetadata:
		return 1
	case LevelRequest:
		return 2
	case LevelRequestResponse:
		return 3
	}
	return 0
}

// Less reports whether l records less than o.
func (l Level) Less(o Level) bool { return l.ord() < o.ord() }

// Stage is the point of a request's life an event describes.
type Stage string

// The stages.
const (
	// StageRequestReceived is logged as soon as the request is seen.
	StageRequestReceived Stage = "RequestReceived"
	// StageResponseStarted is logged when the headers of a long-running
	// request's response (watch, logs, exec, proxy) are sent.
	StageResponseStarted Stage = "ResponseStarted"
	// StageResponseComplete is logged when the response is done.
	StageResponseComplete Stage = "ResponseComplete"
	// StagePanic is logged when the handler panicked.
	StagePanic Stage = "Panic"
)

// Event is one audit.k8s.io/v1 Event, written as one JSON line.
type Event struct {
	metav1.TypeMeta `json:",inline"`

	Level      Level     `json:"level"`
	AuditID    types.UID `json:"auditID"`
	Stage      Stage     `json:"stage"`
	RequestURI string    `json:"requestURI"`
	Verb       string    `json:"verb"`

	User             authenticationv1.UserInfo  `json:"user"`
	ImpersonatedUser *authenticationv1.UserInfo `json:"impersonatedUser,omitempty"`
	SourceIPs        []string                   `json:"sourceIPs,omitempty"`
	UserAgent        string                     `json:"userAgent,omitempty"`
	ObjectRef        *ObjectReference           `json:"objectRef,omitempty"`
	ResponseStatus   *metav1.Status             `json:"responseStatus,omitempty"`

	// RequestObject and ResponseObject are the bodies, as JSON, at levels
	// Request and RequestResponse.
	RequestObject  json.RawMessage `json:"requestObject,omitempty"`
	ResponseObject json.RawMessage `json:"responseObject,omitempty"`

	RequestReceivedTimestamp metav1.MicroTime `json:"requestReceivedTimestamp"`
	StageTimestamp           metav1.MicroTime `json:"stageTimestamp"`

	Annotations map[string]string `json:"annotations,omitempty"`
}

// ObjectReference names the object a resource request is about.
type ObjectReference struct {
	Resource        string    `json:"resource,omitempty"`
	Namespace       string    `json:"namespace,omitempty"`
	Name            string    `json:"name,omitempty"`
	UID             types.UID `json:"uid,omitempty"`
	APIGroup        string    `json:"apiGroup,omitempty"`
	APIVersion      string    `json:"apiVersion,omitempty"`
	ResourceVersion string    `json:"resourceVersion,omitempty"`
	Subresource     string    `json:"subresource,omitempty"`
}

// Policy is an audit.k8s.io/v1 Policy: the rules deciding each request's
// level, the first matching one winning; a request no rule matches is not
// recorded.
type Policy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Rules []PolicyRule `json:"rules"`
	// OmitStages are never recorded, whatever the rule.
	OmitStages []Stage `json:"omitStages,omitempty"`
	// OmitManagedFields drops metadata.managedFields from recorded bodies
	// unless a rule says otherwise.
	OmitManagedFields bool `json:"omitManagedFields,omitempty"`
}

// PolicyRule maps requests to a level. Empty lists match everything; a
// rule with resources or namespaces matches resource requests only, one
// with nonResourceURLs non-resource requests only.
type PolicyRule struct {
	Level      Level    `json:"level"`
	Users      []string `json:"users,omitempty"`
	UserGroups []string `json:"userGroups,omitempty"`
	Verbs      []string `json:"verbs,omitempty"`

	Resources []GroupResources `json:"resources,omitempty"`
	// Namespaces: "" matches cluster-scoped resources.
	Namespaces []string `json:"namespaces,omitempty"`
	// NonResourceURLs are paths ("/healthz"), "*" or a prefix ending in "*".
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`

	OmitStages        []Stage `json:"omitStages,omitempty"`
	OmitManagedFields *bool   `json:"omitManagedFields,omitempty"`
}

// GroupResources names resources of one API group ("" is the core group,
// "*" any). Resources may be "pods", "pods/log", "*", "*/status" or
// "pods/*"; ResourceNames narrow to named objects.
type GroupResources struct {
	Group         string   `json:"group,omitempty"`
	Resources     []string `json:"resources,omitempty"`
	ResourceNames []string `json:"resourceNames,omitempty"`
}
