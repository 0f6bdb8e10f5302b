package openapi

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/kinc-dev/kinc/internal/benchcmp"
)

// TestOperationIDs checks upstream's operation IDs and descriptions on a
// sample of routes (values from upstream's api/openapi-spec/swagger.json).
func TestOperationIDs(t *testing.T) {
	s, err := New("v1.33.0", servedResources())
	if err != nil {
		t.Fatal(err)
	}
	sw, err := s.Swagger()
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]string{} // operationId → description
	for _, item := range sw.Paths.Paths {
		for _, op := range []*spec.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch, item.Head, item.Options} {
			if op != nil {
				ops[op.ID] = op.Description
			}
		}
	}
	for id, desc := range map[string]string{
		"listCoreV1NamespacedPod":              "list or watch objects of kind Pod",
		"listCoreV1PodForAllNamespaces":        "list or watch objects of kind Pod",
		"createCoreV1NamespacedPod":            "create a Pod",
		"createCoreV1NamespacedEndpoints":      "create Endpoints",
		"createCoreV1NamespacedPodEviction":    "create eviction of a Pod",
		"deleteCoreV1CollectionNamespacedPod":  "delete collection of Pod",
		"patchCoreV1NamespacedPodStatus":       "partially update status of the specified Pod",
		"readAppsV1NamespacedDeploymentScale":  "read scale of the specified Deployment",
		"watchCoreV1PodListForAllNamespaces":   "watch individual changes to a list of Pod. deprecated: use the 'watch' parameter with a list operation instead.",
		"connectCoreV1PostNamespacedPodExec":   "connect POST requests to exec of Pod",
		"connectCoreV1DeleteNodeProxyWithPath": "connect DELETE requests to proxy of Node",
		"readCoreV1NamespacedPodLog":           "read log of the specified Pod",
		"listRbacAuthorizationV1ClusterRole":   "list or watch objects of kind ClusterRole",
		"getRbacAuthorizationAPIGroup":         "get information of a group",
		"getCoordinationV1APIResources":        "get available resources",
		"getCoreAPIVersions":                   "get available API versions",
		"getAPIVersions":                       "get available API versions",
		"getCodeVersion":                       "get the code version",
	} {
		if got, ok := ops[id]; !ok || got != desc {
			t.Errorf("%s: %q (present %v), want %q", id, got, ok, desc)
		}
	}
}

// TestConcurrentFirstUse serves the first requests concurrently: the
// documents are built once.
func TestConcurrentFirstUse(t *testing.T) {
	_, srv := newTestServer(t)
	done := make(chan int)
	for _, p := range []string{"/openapi/v2", "/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1"} {
		go func() {
			resp, err := http.Get(srv.URL + p)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
	}
	for range 4 {
		if code := <-done; code != http.StatusOK {
			t.Errorf("status %d", code)
		}
	}
}

func TestNewRejectsUnknownKinds(t *testing.T) {
	for _, r := range []Resource{
		{Version: "v1", Resource: "widgets", Kind: "Widget", Verbs: []string{"get"}},
		{Group: "apps", Version: "v1", Resource: "deployments", Kind: "Deployment", Verbs: []string{"get"},
			Subresources: []Subresource{{Name: "scale", GVK: schema.GroupVersionKind{Group: "autoscaling", Version: "v9", Kind: "Scale"}, Verbs: []string{"get"}}}},
		{Version: "v1", Resource: "pods", Verbs: []string{"get"}},
		// storage.k8s.io/v1beta1 is in the scheme but has no generated definitions.
		{Group: "storage.k8s.io", Version: "v1beta1", Resource: "csistoragecapacities", Kind: "CSIStorageCapacity", Verbs: []string{"get"}},
	} {
		_, err := New("v1.33.0", []Resource{r})
		if err == nil {
			t.Errorf("New accepted %+v", r)
		}
		t.Log(err)
	}
}

// BenchmarkBuild measures what the first request pays, New plus building
// and encoding the v2 (JSON and protobuf) and v3 documents, against the
// baseline of encoding the same, already built, documents (what serving
// them costs at the least), in the same iteration (internal/benchcmp).
func BenchmarkBuild(b *testing.B) {
	const builds = 3
	built, err := New("v1.33.0", servedResources())
	if err != nil {
		b.Fatal(err)
	}
	sw, err := built.Swagger()
	if err != nil {
		b.Fatal(err)
	}
	v3, err := built.OpenAPIV3()
	if err != nil {
		b.Fatal(err)
	}
	var ours, encode time.Duration
	for b.Loop() {
		ours += benchcmp.Time(func() {
			for range builds {
				s, err := New("v1.33.0", servedResources())
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Prepare(); err != nil {
					b.Fatal(err)
				}
			}
		})
		encode += benchcmp.Time(func() {
			for range builds {
				if err := encodeDocs(sw, v3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	benchcmp.Times(b, ours, encode)
	b.ReportMetric(builds, "builds/op")
	b.ReportMetric(float64(len(v3)), "v3-groups")
}

// encodeDocs encodes built documents as Prepare does: v2 to JSON and
// protobuf, each v3 group to JSON.
func encodeDocs(sw *spec.Swagger, v3 map[string]*spec3.OpenAPI) error {
	j, err := json.Marshal(sw)
	if err != nil {
		return err
	}
	doc, err := openapi_v2.ParseDocument(j)
	if err != nil {
		return err
	}
	if _, err := proto.Marshal(doc); err != nil {
		return err
	}
	for _, d := range v3 {
		if _, err := json.Marshal(d); err != nil {
			return err
		}
	}
	return nil
}
