package openapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/spec3"
)

// v3Root fetches and decodes /openapi/v3.
func v3Root(t *testing.T, srv *httptest.Server) map[string]string {
	t.Helper()
	resp, body := get(t, srv.URL+"/openapi/v3")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/openapi/v3: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var root struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range root.Paths {
		out[k] = v.ServerRelativeURL
	}
	return out
}

func TestV3RootAndDocuments(t *testing.T) {
	_, srv := newTestServer(t)
	root := v3Root(t, srv)
	for _, gv := range []string{"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/rbac.authorization.k8s.io/v1", "api", "apis", "version"} {
		u, ok := root[gv]
		if !ok || !strings.HasPrefix(u, "/openapi/v3/"+gv+"?hash=") {
			t.Errorf("root: %s → %q", gv, u)
		}
	}
	for gv, u := range root {
		resp, body := get(t, srv.URL+u, "Accept", "application/json")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, immutable" {
			t.Fatalf("%s: %d, Cache-Control %q", u, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		doc := &spec3.OpenAPI{}
		if err := json.Unmarshal(body, doc); err != nil {
			t.Fatalf("%s: %v", gv, err)
		}
		if doc.Version != "3.0.0" || doc.Info == nil || doc.Info.Title != "Kubernetes" || doc.Paths == nil {
			t.Fatalf("%s: openapi %q info %v", gv, doc.Version, doc.Info)
		}
		groupVersion := strings.HasPrefix(gv, "api/") || strings.Count(gv, "/") == 2
		if groupVersion && !hasPatchWithFieldValidation(doc) {
			t.Errorf("%s: no PATCH operation with a GVK and a fieldValidation query parameter", gv)
		}
	}
}

// hasPatchWithFieldValidation is kubectl's test for server-side field
// validation (cli-runtime's query_param_verifier_v3) on any GVK.
func hasPatchWithFieldValidation(doc *spec3.OpenAPI) bool {
	for _, p := range doc.Paths.Paths {
		if p == nil || p.Patch == nil || p.Patch.Extensions[extensionGVK] == nil {
			continue
		}
		for _, param := range p.Patch.Parameters {
			if param.Name == "fieldValidation" && param.In == "query" {
				return true
			}
		}
	}
	return false
}

func TestV3CachingAndErrors(t *testing.T) {
	_, srv := newTestServer(t)
	u := v3Root(t, srv)["apis/apps/v1"]
	resp, _ := get(t, srv.URL+u)
	etag := resp.Header.Get("Etag")
	if hash := u[strings.Index(u, "hash=")+5:]; etag != `"`+hash+`"` {
		t.Errorf("ETag %s, hash %s", etag, hash)
	}
	if resp, _ := get(t, srv.URL+"/openapi/v3/apis/apps/v1", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	resp, _ = get(t, srv.URL+"/openapi/v3/apis/apps/v1")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("without hash: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, _ = get(t, srv.URL+"/openapi/v3/apis/apps/v1?hash=0123")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != u {
		t.Errorf("stale hash: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, p := range []string{"/openapi/v3/apis/nope/v1", "/openapi/v3/", "/openapi/v3/api/v2", "/openapi/v4"} {
		if resp, _ := get(t, srv.URL+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/openapi/v2", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", resp, err)
	}
}

func TestV3Protobuf(t *testing.T) {
	_, srv := newTestServer(t)
	resp, body := get(t, srv.URL+"/openapi/v3/api/v1", "Accept", MediaV3Protobuf)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != MediaV3ProtobufCanonical {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc := &openapi_v3.Document{}
	if err := proto.Unmarshal(body, doc); err != nil {
		t.Fatal(err)
	}
	if doc.GetOpenapi() != "3.0.0" || len(doc.GetPaths().GetPath()) == 0 {
		t.Errorf("openapi %q, %d paths", doc.GetOpenapi(), len(doc.GetPaths().GetPath()))
	}
}
