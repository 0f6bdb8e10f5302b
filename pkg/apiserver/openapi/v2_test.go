package openapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
)

// newTestServer serves a Service built from servedResources.
func newTestServer(t *testing.T) (*Service, *httptest.Server) {
	t.Helper()
	s, err := New("v1.33.0", servedResources())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// No redirects: the tests look at them.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestV2Protobuf(t *testing.T) {
	_, srv := newTestServer(t)
	for _, accept := range []string{MediaV2Protobuf, MediaV2ProtobufCanonical, MediaV2Protobuf + ", application/json;q=0.5"} {
		resp, body := get(t, srv.URL+"/openapi/v2", "Accept", accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != MediaV2ProtobufCanonical {
			t.Fatalf("Accept %q: %d %q", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		doc := &openapi_v2.Document{}
		if err := proto.Unmarshal(body, doc); err != nil {
			t.Fatalf("Accept %q: %v", accept, err)
		}
		if doc.GetInfo().GetTitle() != "Kubernetes" || doc.GetInfo().GetVersion() != "v1.33.0" || doc.GetSwagger() != "2.0" {
			t.Errorf("info = %v, swagger %q", doc.GetInfo(), doc.GetSwagger())
		}
		checkV2Pod(t, doc)
	}
}

// checkV2Pod checks the Pod definition's GVK and that the pod PATCH
// operation has the parameters kubectl looks for.
func checkV2Pod(t *testing.T, doc *openapi_v2.Document) {
	t.Helper()
	var pod *openapi_v2.Schema
	for _, d := range doc.GetDefinitions().GetAdditionalProperties() {
		if d.GetName() == "io.k8s.api.core.v1.Pod" {
			pod = d.GetValue()
		}
	}
	if pod == nil {
		t.Fatal("no definition io.k8s.api.core.v1.Pod")
	}
	if gvk := extension(pod.GetVendorExtension(), extensionGVK); !strings.Contains(gvk, "kind: Pod") || !strings.Contains(gvk, "version: v1") {
		t.Errorf("Pod %s = %q", extensionGVK, gvk)
	}
	var patch *openapi_v2.Operation
	for _, p := range doc.GetPaths().GetPath() {
		if p.GetName() == "/api/v1/namespaces/{namespace}/pods/{name}" {
			patch = p.GetValue().GetPatch()
		}
	}
	if patch == nil {
		t.Fatal("no PATCH /api/v1/namespaces/{namespace}/pods/{name}")
	}
	if patch.GetOperationId() != "patchCoreV1NamespacedPod" {
		t.Errorf("operationId = %q", patch.GetOperationId())
	}
	if gvk := extension(patch.GetVendorExtension(), extensionGVK); !strings.Contains(gvk, "kind: Pod") {
		t.Errorf("PATCH %s = %q", extensionGVK, gvk)
	}
	query := map[string]bool{}
	for _, p := range patch.GetParameters() {
		if q := p.GetParameter().GetNonBodyParameter().GetQueryParameterSubSchema(); q != nil {
			query[q.GetName()] = true
		}
	}
	// fieldValidation and dryRun stay inline for kubectl; fieldManager may be a shared $ref.
	for _, name := range []string{"fieldValidation", "dryRun"} {
		if !query[name] {
			t.Errorf("PATCH has no inline query parameter %s (has %v)", name, query)
		}
	}
	want := []string{"application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"}
	if got := strings.Join(patch.GetConsumes(), ","); got != strings.Join(want, ",") {
		t.Errorf("PATCH consumes %s", got)
	}
}

func extension(exts []*openapi_v2.NamedAny, name string) string {
	for _, e := range exts {
		if e.GetName() == name {
			return e.GetValue().GetYaml()
		}
	}
	return ""
}

func TestV2JSONAndETag(t *testing.T) {
	_, srv := newTestServer(t)
	for _, accept := range []string{"", "application/json", "*/*", "text/html"} {
		resp, body := get(t, srv.URL+"/openapi/v2", "Accept", accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("Accept %q: %d %q", accept, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var doc struct {
			Swagger string `json:"swagger"`
			Paths   map[string]json.RawMessage
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.Swagger != "2.0" || len(doc.Paths) == 0 {
			t.Fatalf("Accept %q: %v %q %d paths", accept, err, doc.Swagger, len(doc.Paths))
		}
	}
	resp, _ := get(t, srv.URL+"/openapi/v2", "Accept", MediaV2Protobuf)
	etag := resp.Header.Get("Etag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	resp, body := get(t, srv.URL+"/openapi/v2", "Accept", MediaV2Protobuf, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get(t, srv.URL+"/openapi/v2", "If-None-Match", `"other"`); resp.StatusCode != http.StatusOK {
		t.Errorf("stale If-None-Match: %d", resp.StatusCode)
	}
}
