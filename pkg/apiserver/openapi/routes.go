package openapi

import (
	"encoding/json"

	"k8s.io/kube-openapi/pkg/common"
)

// This file holds plain-data implementations of kube-openapi's route
// interfaces (common.RouteContainer, Route, Parameter, StatusCodeResponse):
// what upstream describes with go-restful web services, without go-restful.

// webService is the set of routes under one root path ("/api/v1",
// "/apis/apps/v1", "/apis", "/version"). The OpenAPI v3 documents are cut
// along web services, keyed by the root path without its leading slash.
type webService struct {
	root   string
	routes []common.Route
}

var _ common.RouteContainer = (*webService)(nil)

func (w *webService) RootPath() string                   { return w.root }
func (w *webService) PathParameters() []common.Parameter { return nil }
func (w *webService) Routes() []common.Route             { return w.routes }

// route is one operation. Models (reads, writes, response models) are sample
// values whose definition name kube-openapi derives with
// util.GetCanonicalTypeName: API objects from the scheme, or a string for raw
// data.
type route struct {
	method      string
	path        string
	operation   string // upstream's route operation, before the GV prefix is added
	description string
	params      []common.Parameter
	consumes    []string
	produces    []string
	metadata    map[string]interface{}
	reads       interface{}
	writes      interface{}
	responses   []common.StatusCodeResponse
}

var _ common.Route = (*route)(nil)

func (r *route) Method() string                                   { return r.method }
func (r *route) Path() string                                     { return r.path }
func (r *route) OperationName() string                            { return r.operation }
func (r *route) Parameters() []common.Parameter                   { return r.params }
func (r *route) Description() string                              { return r.description }
func (r *route) Consumes() []string                               { return r.consumes }
func (r *route) Produces() []string                               { return r.produces }
func (r *route) Metadata() map[string]interface{}                 { return r.metadata }
func (r *route) RequestPayloadSample() interface{}                { return r.reads }
func (r *route) ResponsePayloadSample() interface{}               { return r.writes }
func (r *route) StatusCodeResponses() []common.StatusCodeResponse { return r.responses }

// returns adds a response, like go-restful's RouteBuilder.Returns.
func (r *route) returns(code int, message string, model interface{}) *route {
	r.responses = append(r.responses, response{code: code, message: message, model: model})
	return r
}

// param adds parameters, like go-restful's RouteBuilder.Param.
func (r *route) param(ps ...parameter) *route {
	for _, p := range ps {
		r.params = append(r.params, p)
	}
	return r
}

// read sets the request body model, like go-restful's RouteBuilder.Reads:
// a body parameter named "body".
func (r *route) read(model interface{}, required bool) *route {
	r.reads = model
	return r.param(parameter{name: "body", kind: common.BodyParameterKind, dataType: "body", required: required})
}

type response struct {
	code    int
	message string
	model   interface{}
}

func (r response) Code() int          { return r.code }
func (r response) Message() string    { return r.message }
func (r response) Model() interface{} { return r.model }

// parameter is a path, query or body parameter. Query parameters are never
// repeated (AllowMultiple false), which kube-openapi renders as
// uniqueItems: true, as for upstream.
type parameter struct {
	name        string
	description string
	kind        common.ParameterKind
	dataType    string // "string", "integer", "boolean", "number"; unused for body
	required    bool
}

var _ common.Parameter = parameter{}

func (p parameter) Name() string               { return p.name }
func (p parameter) Description() string        { return p.description }
func (p parameter) Required() bool             { return p.required }
func (p parameter) Kind() common.ParameterKind { return p.kind }
func (p parameter) DataType() string           { return p.dataType }
func (p parameter) AllowMultiple() bool        { return false }

// MarshalJSON makes the builders' duplicate-parameter error messages readable.
func (p parameter) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]interface{}{"name": p.name, "kind": p.kind, "dataType": p.dataType})
}

func pathParam(name, description string) parameter {
	return parameter{name: name, description: description, kind: common.PathParameterKind, dataType: "string", required: true}
}

func queryParam(name, description, dataType string) parameter {
	return parameter{name: name, description: description, kind: common.QueryParameterKind, dataType: dataType}
}
