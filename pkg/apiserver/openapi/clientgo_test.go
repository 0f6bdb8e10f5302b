package openapi

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/util/proto"
)

// TestClientGoConsumers reads the documents with the client-go code kubectl
// uses: DiscoveryClient.OpenAPISchema (v2 protobuf) parsed into the models of
// kube-openapi's util/proto (client-side validation, explain v2), and the
// openapi3 Root over DiscoveryClient.OpenAPIV3 (explain, field validation
// detection, apply).
func TestClientGoConsumers(t *testing.T) {
	_, srv := newTestServer(t)
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}

	doc, err := dc.OpenAPISchema()
	if err != nil {
		t.Fatalf("OpenAPISchema: %v", err)
	}
	models, err := proto.NewOpenAPIData(doc)
	if err != nil {
		t.Fatalf("NewOpenAPIData: %v", err)
	}
	pod, ok := models.LookupModel("io.k8s.api.core.v1.Pod").(*proto.Kind)
	if !ok || pod.Fields["spec"] == nil || pod.GetExtensions()[extensionGVK] == nil {
		t.Fatalf("v2 model of Pod: %#v", models.LookupModel("io.k8s.api.core.v1.Pod"))
	}

	root := openapi3.NewRoot(dc.OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil {
		t.Fatalf("GroupVersions: %v", err)
	}
	want := map[schema.GroupVersion]bool{{Version: "v1"}: false, {Group: "apps", Version: "v1"}: false}
	for _, gv := range gvs {
		if _, ok := want[gv]; ok {
			want[gv] = true
		}
	}
	for gv, found := range want {
		if !found {
			t.Errorf("GroupVersions lacks %v: %v", gv, gvs)
		}
	}
	var notFound *openapi3.GroupVersionNotFoundError
	if _, err := root.GVSpec(schema.GroupVersion{Group: "nope", Version: "v1"}); !errors.As(err, &notFound) {
		t.Errorf("GVSpec(nope/v1) = %v, want GroupVersionNotFoundError", err)
	}

	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "Pod"},
		{Group: "apps", Version: "v1", Kind: "Deployment"},
		{Group: "autoscaling", Version: "v1", Kind: "Scale"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole"},
	} {
		gv := gvk.GroupVersion()
		if gvk.Kind == "Scale" {
			gv = schema.GroupVersion{Group: "apps", Version: "v1"} // served as deployments/scale
		}
		spec, err := root.GVSpec(gv)
		if err != nil {
			t.Fatalf("GVSpec(%v): %v", gv, err)
		}
		if !supportsFieldValidation(spec, gvk) {
			t.Errorf("%v: kubectl would not detect server-side field validation", gvk)
		}
	}

	spec, err := root.GVSpec(schema.GroupVersion{Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	s := spec.Components.Schemas["io.k8s.api.core.v1.Pod"]
	if s == nil || s.Description == "" || s.Properties["spec"].Description == "" || s.Extensions[extensionGVK] == nil {
		t.Fatalf("v3 Pod schema lacks what kubectl explain shows: %+v", s)
	}

	// The same schemas drive server-side apply (structured-merge-diff).
	tc, err := managedfields.NewTypeConverter(spec.Components.Schemas, false)
	if err != nil {
		t.Fatalf("NewTypeConverter: %v", err)
	}
	obj := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]interface{}{"name": "p", "namespace": "default"},
		"spec":     map[string]interface{}{"containers": []interface{}{map[string]interface{}{"name": "c", "image": "busybox"}}},
	}}
	if _, err := tc.ObjectToTyped(obj); err != nil {
		t.Errorf("ObjectToTyped(Pod): %v", err)
	}
}

// supportsFieldValidation mirrors cli-runtime's supportsQueryParamV3: a
// PATCH operation whose x-kubernetes-group-version-kind is gvk and which has
// the query parameter fieldValidation.
func supportsFieldValidation(doc *spec3.OpenAPI, gvk schema.GroupVersionKind) bool {
	for _, p := range doc.Paths.Paths {
		if p == nil || p.Patch == nil {
			continue
		}
		ext, ok := p.Patch.Extensions[extensionGVK].(map[string]interface{})
		if !ok || ext["group"] != gvk.Group || ext["version"] != gvk.Version || ext["kind"] != gvk.Kind {
			continue
		}
		for _, param := range p.Patch.Parameters {
			if param.Name == "fieldValidation" && param.In == "query" {
				return true
			}
		}
		return false
	}
	return false
}
