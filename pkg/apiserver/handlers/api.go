package handlers

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
)

// MaxBodyBytes is the largest request body accepted (upstream's 3 MiB);
// larger ones are answered with 413.
const MaxBodyBytes = 3 * 1024 * 1024

// API serves every resource request under /api and /apis. Build it with
// NewAPI; it is then safe for concurrent use.
type API struct {
	resources map[schema.GroupVersionResource]*Resource
	scheme    *runtime.Scheme
	params    runtime.ParameterCodec
	decoder   decoder
	tables    tableConvertor
	clock     clock.PassiveClock
	log       *slog.Logger
	admission admission.Chain
}

// NewAPI returns the handler of resources, which must have distinct
// group-version-resources. tables renders Table responses; scheme knows every
// kind served.
func NewAPI(resources []*Resource, scheme *runtime.Scheme, tables tableConvertor, clk clock.PassiveClock, log *slog.Logger) *API {
	a := &API{
		resources: map[schema.GroupVersionResource]*Resource{},
		scheme:    scheme,
		params:    runtime.NewParameterCodec(scheme),
		decoder:   decoder{scheme: scheme},
		tables:    tables,
		clock:     clk,
		log:       log,
	}
	for _, r := range resources {
		a.resources[r.GroupVersionResource()] = r
	}
	return a
}

// Resources returns the served resources, for discovery and OpenAPI.
func (a *API) Resources() []*Resource {
	out := make([]*Resource, 0, len(a.resources))
	for _, r := range a.resources {
		out = append(out, r)
	}
	return out
}

// request is one resource request being served.
type request struct {
	w        http.ResponseWriter
	r        *http.Request
	ctx      context.Context
	info     RequestInfo
	res      *Resource
	out      output
	warnings []string
}

// ServeResource serves a resource request described by info.
func (a *API) ServeResource(w http.ResponseWriter, r *http.Request, info RequestInfo) {
	res := a.resources[schema.GroupVersionResource{Group: info.APIGroup, Version: info.APIVersion, Resource: info.Resource}]
	if res == nil {
		WriteError(w, r, apierrors.NewNotFound(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, info.Name))
		return
	}
	out, err := negotiateOutput(r.Header.Get("Accept"))
	if err != nil {
		WriteError(w, r, err)
		return
	}
	req := &request{w: w, r: r, ctx: r.Context(), info: info, res: res, out: out}
	if !res.Namespaced && info.Namespace != "" && info.Resource != "namespaces" {
		a.fail(req, apierrors.NewNotFound(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, info.Name))
		return
	}
	if res.Namespaced && info.Namespace == "" && info.Verb != "list" && info.Verb != "watch" && info.Verb != "deletecollection" {
		a.fail(req, apierrors.NewNotFound(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, info.Name))
		return
	}
	if info.Subresource != "" {
		a.serveSubresource(req)
		return
	}
	if !hasVerb(res.Verbs, info.Verb) {
		a.fail(req, methodNotAllowed(info))
		return
	}
	view := mainView{store: res.Store}
	switch info.Verb {
	case "get":
		a.get(req, view)
	case "list":
		a.list(req)
	case "watch":
		a.watch(req)
	case "create":
		a.create(req)
	case "update":
		a.update(req, view, res.GVK)
	case "patch":
		a.patch(req, view, res.GVK)
	case "delete":
		a.delete(req)
	case "deletecollection":
		a.deleteCollection(req)
	default:
		a.fail(req, methodNotAllowed(info))
	}
}

func (a *API) serveSubresource(req *request) {
	info := req.info
	var sub *Subresource
	for i := range req.res.Subresources {
		if req.res.Subresources[i].Name == info.Subresource {
			sub = &req.res.Subresources[i]
		}
	}
	if sub == nil || info.Name == "" {
		a.fail(req, apierrors.NewNotFound(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource + "/" + info.Subresource}, info.Name))
		return
	}
	if sub.Connecter != nil {
		if err := a.admitConnect(req); err != nil {
			a.fail(req, err)
			return
		}
		sub.Connecter.Connect(req.w, req.r, info.Namespace, info.Name)
		return
	}
	if info.SubPath != "" { // only connecters (proxy) have paths below them
		a.fail(req, apierrors.NewNotFound(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource + "/" + info.Subresource}, info.Name))
		return
	}
	if !hasVerb(sub.Verbs, info.Verb) {
		a.fail(req, methodNotAllowed(info))
		return
	}
	switch {
	case sub.Creater != nil && info.Verb == "create":
		a.createSub(req, sub)
	case sub.View != nil && info.Verb == "get":
		a.get(req, sub.View)
	case sub.View != nil && info.Verb == "update":
		a.update(req, sub.View, sub.Kind)
	case sub.View != nil && info.Verb == "patch":
		a.patch(req, sub.View, sub.Kind)
	default:
		a.fail(req, methodNotAllowed(info))
	}
}

func hasVerb(verbs []string, verb string) bool {
	for _, v := range verbs {
		if v == verb {
			return true
		}
	}
	return false
}

func methodNotAllowed(info RequestInfo) error {
	return apierrors.NewMethodNotSupported(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, info.Verb)
}

// readBody reads the request body, refusing more than MaxBodyBytes with 413.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest("unable to read the request body: " + err.Error())
	}
	if len(data) > MaxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError("limit is 3145728")
	}
	return data, nil
}

// bodyMediaType returns the media type of the request body (JSON when unset).
func bodyMediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return mediaJSON
	}
	mt, _, _ := strings.Cut(ct, ";")
	return strings.TrimSpace(strings.ToLower(mt))
}

// dryRun parses the dryRun query parameter: only "All" is valid.
func dryRun(r *http.Request) (bool, error) {
	values := r.URL.Query()["dryRun"]
	for _, v := range values {
		if v != metav1.DryRunAll {
			return false, apierrors.NewBadRequest("Invalid dry run value: " + v + " (supported: All)")
		}
	}
	return len(values) > 0, nil
}

// fieldValidation parses the fieldValidation query parameter (Strict, Warn,
// Ignore; default Warn as upstream) and reports whether decoding is strict.
func fieldValidation(r *http.Request) (strict bool, err error) {
	switch v := r.URL.Query().Get("fieldValidation"); v {
	case "Strict":
		return true, nil
	case "", "Warn", "Ignore":
		return false, nil
	default:
		return false, apierrors.NewBadRequest("fieldValidation must be one of Ignore, Warn or Strict, not " + v)
	}
}

// paramsGV is the group-version query parameters (ListOptions, GetOptions,
// DeleteOptions) are decoded as: client-go's scheme registers them in "v1".
var paramsGV = schema.GroupVersion{Version: "v1"}
