package openapi

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	builder2 "k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// builder turns Resources into web services and those into documents.
type builder struct {
	cfg   *config
	namer *definitionNamer
}

// webServices returns the web services serving resources, sorted by root:
// one per group version (with its discovery route "/apis/g/v/"), plus the
// discovery roots /api, /apis, /apis/<group> and /version, as upstream.
func (b *builder) webServices(resources []Resource) ([]*webService, error) {
	byRoot := map[string]*webService{}
	discovery := func(root, op, doc string, produces []string, model interface{}) {
		byRoot[root] = &webService{root: root, routes: []common.Route{&route{
			method: http.MethodGet, path: root + "/", operation: op, description: doc,
			consumes: produces, produces: produces, writes: model,
		}}}
	}
	for _, r := range resources {
		if r.Version == "" || r.Resource == "" || r.Kind == "" {
			return nil, fmt.Errorf("resource %q of %q: version, resource and kind are required", r.Resource, r.Group)
		}
		gv := schema.GroupVersion{Group: r.Group, Version: r.Version}
		root := "/api/" + gv.Version
		if gv.Group != "" {
			root = "/apis/" + gv.Group + "/" + gv.Version
			if byRoot["/apis/"+gv.Group] == nil {
				discovery("/apis/"+gv.Group, "getAPIGroup", "get information of a group", b.cfg.mediaTypes, metav1.APIGroup{})
			}
			if byRoot["/apis"] == nil {
				discovery("/apis", "getAPIVersions", "get available API versions", b.cfg.mediaTypes, metav1.APIGroupList{})
			}
		} else if byRoot["/api"] == nil {
			discovery("/api", "getAPIVersions", "get available API versions", b.cfg.mediaTypes, metav1.APIVersions{})
		}
		if byRoot[root] == nil {
			discovery(root, "getAPIResources", "get available resources", b.cfg.mediaTypes, metav1.APIResourceList{})
		}
		if err := b.addResource(byRoot[root], r); err != nil {
			return nil, fmt.Errorf("resource %q of %s: %w", r.Resource, gv, err)
		}
	}
	discovery("/version", "getCodeVersion", "get the code version", []string{"application/json"}, version.Info{})

	out := make([]*webService, 0, len(byRoot))
	for _, ws := range byRoot {
		out = append(out, ws)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].root < out[j].root })
	return out, nil
}

// addResource adds the routes of r and its subresources to ws.
func (b *builder) addResource(ws *webService, r Resource) error {
	gvk := schema.GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
	eps := []*endpoint{{gvk: gvk, verbs: r.Verbs}}
	for i := range r.Subresources {
		s := &r.Subresources[i]
		if s.Name == "" || strings.Contains(s.Name, "/") {
			return fmt.Errorf("invalid subresource name %q", s.Name)
		}
		e := &endpoint{gvk: gvk, sub: s.Name, verbs: s.Verbs, sr: s}
		if !s.GVK.Empty() {
			e.gvk = s.GVK
		}
		eps = append(eps, e)
	}
	for _, e := range eps {
		e.kind, e.namespaced = r.Kind, r.Namespaced
		obj, err := b.cfg.scheme.New(e.gvk)
		if err != nil {
			return err
		}
		e.object = obj
		if slices.Contains(e.verbs, "list") {
			if e.list, err = b.cfg.scheme.New(e.gvk.GroupVersion().WithKind(e.gvk.Kind + "List")); err != nil {
				return err
			}
		}
		for _, a := range resourceActions(r, e) {
			for _, rt := range b.routes(ws.root, e, a) {
				ws.routes = append(ws.routes, rt)
			}
		}
	}
	return nil
}

// checkDefinitions reports models of routes that have no generated
// definition, which would make building the documents fail later.
func (b *builder) checkDefinitions(wss []*webService) error {
	defs := b.cfg.definitions(func(string) spec.Ref { return spec.Ref{} })
	check := func(model interface{}) error {
		if model == nil {
			return nil
		}
		if _, raw := model.(string); raw {
			return nil
		}
		if name := util.GetCanonicalTypeName(model); !hasDefinition(defs, name) {
			return fmt.Errorf("no OpenAPI definition for %s: add its package to hack/update-openapi.sh", name)
		}
		return nil
	}
	for _, ws := range wss {
		for _, r := range ws.routes {
			if err := check(r.RequestPayloadSample()); err != nil {
				return err
			}
			if err := check(r.ResponsePayloadSample()); err != nil {
				return err
			}
			for _, resp := range r.StatusCodeResponses() {
				if err := check(resp.Model()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func hasDefinition(defs map[string]common.OpenAPIDefinition, name string) bool {
	_, ok := defs[name]
	return ok
}

// Shared pieces of both documents, as upstream kube-apiserver configures them.
const (
	securityName        = "BearerToken"
	securityDescription = "Bearer Token authentication"
)

// buildV2 builds the OpenAPI v2 document of all web services.
func (b *builder) buildV2(wss []*webService) (*spec.Swagger, error) {
	cfg := &common.Config{
		ProtocolList:                   []string{"https"},
		Info:                           &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: b.cfg.version}},
		DefaultResponse:                &spec.Response{ResponseProps: spec.ResponseProps{Description: "Default Response."}},
		CommonResponses:                map[int]spec.Response{http.StatusUnauthorized: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}}},
		GetDefinitions:                 b.cfg.definitions,
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		GetDefinitionName:              b.namer.GetDefinitionName,
		SecurityDefinitions: &spec.SecurityDefinitions{securityName: &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
			Type: "apiKey", Name: "authorization", In: "header", Description: securityDescription,
		}}},
		DefaultSecurity: []map[string][]string{{securityName: {}}},
	}
	containers := make([]common.RouteContainer, len(wss))
	for i, ws := range wss {
		containers[i] = ws
	}
	return builder2.BuildOpenAPISpecFromRoutes(containers, cfg)
}

// buildV3 builds one OpenAPI v3 document per web service, keyed like
// upstream's /openapi/v3 paths ("api/v1", "apis/apps/v1", "version").
func (b *builder) buildV3(wss []*webService) (map[string]*spec3.OpenAPI, error) {
	// The definitions are resolved once and shared: the builder copies what
	// it changes.
	defs := b.cfg.definitions(func(name string) spec.Ref {
		n, _ := b.namer.GetDefinitionName(name)
		return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(n))
	})
	out := make(map[string]*spec3.OpenAPI, len(wss))
	for _, ws := range wss {
		cfg := &common.OpenAPIV3Config{
			Info:                           &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: b.cfg.version}},
			DefaultResponse:                &spec3.Response{ResponseProps: spec3.ResponseProps{Description: "Default Response."}},
			CommonResponses:                map[int]*spec3.Response{http.StatusUnauthorized: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}}},
			Definitions:                    defs,
			GetOperationIDAndTagsFromRoute: operationIDAndTags,
			GetDefinitionName:              b.namer.GetDefinitionName,
			SecuritySchemes: spec3.SecuritySchemes{securityName: &spec3.SecurityScheme{SecuritySchemeProps: spec3.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header", Description: securityDescription,
			}}},
		}
		doc, err := builder3.BuildOpenAPISpecFromRoutes([]common.RouteContainer{ws}, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ws.root, err)
		}
		doc.SecurityRequirement = []map[string][]string{{securityName: {}}}
		out[strings.TrimPrefix(ws.root, "/")] = doc
	}
	return out, nil
}
