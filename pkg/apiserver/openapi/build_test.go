package openapi

import (
	"net/http"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
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

// BenchmarkBuild measures New plus building and encoding both documents
// (what the first request pays), against building the v2 document alone.
func BenchmarkBuild(b *testing.B) {
	for _, bc := range []struct {
		name  string
		build func(*Service) error
	}{
		{"v2", func(s *Service) error { _, err := s.v2(); return err }},
		{"v2+v3", (*Service).Prepare},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for range b.N {
				s, err := New("v1.33.0", servedResources())
				if err != nil {
					b.Fatal(err)
				}
				if err := bc.build(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
