package handlers

import (
	"net/http/httptest"
	"testing"
)

func TestParseRequestInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, url string
		want        RequestInfo
	}{
		{"GET", "/api/v1/pods", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Resource: "pods", Verb: "list"}},
		{"GET", "/api/v1/namespaces/default/pods/web", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Namespace: "default", Resource: "pods", Name: "web", Verb: "get"}},
		{"GET", "/api/v1/namespaces/default/pods?watch=true", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Namespace: "default", Resource: "pods", Verb: "watch"}},
		{"GET", "/api/v1/watch/namespaces/default/pods", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Namespace: "default", Resource: "pods", Verb: "watch"}},
		{"PUT", "/api/v1/namespaces/default/pods/web/status", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Namespace: "default", Resource: "pods", Name: "web", Subresource: "status", Verb: "update"}},
		{"GET", "/api/v1/namespaces/kube-system", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Namespace: "kube-system", Resource: "namespaces", Name: "kube-system", Verb: "get"}},
		{"PUT", "/api/v1/namespaces/x/finalize", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Namespace: "x", Resource: "namespaces", Name: "x", Subresource: "finalize", Verb: "update"}},
		{"GET", "/api/v1/namespaces", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Resource: "namespaces", Verb: "list"}},
		{"PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", RequestInfo{IsResourceRequest: true, APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Namespace: "default", Resource: "deployments", Name: "web", Subresource: "scale", Verb: "patch"}},
		{"DELETE", "/api/v1/namespaces/default/configmaps", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Namespace: "default", Resource: "configmaps", Verb: "deletecollection"}},
		{"POST", "/api/v1/namespaces/default/pods/web/proxy/a/b/", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Namespace: "default", Resource: "pods", Name: "web", Subresource: "proxy", SubPath: "a/b/", Verb: "create"}},
		{"GET", "/api/v1/nodes/n1/proxy/stats/summary", RequestInfo{IsResourceRequest: true, APIPrefix: "api", APIVersion: "v1", Resource: "nodes", Name: "n1", Subresource: "proxy", SubPath: "stats/summary", Verb: "get"}},
		{"GET", "/apis/apps/v1", RequestInfo{APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Verb: "get"}},
		{"GET", "/healthz", RequestInfo{Verb: "get"}},
	} {
		r := httptest.NewRequest(tc.method, tc.url, nil)
		got := ParseRequestInfo(r)
		tc.want.Path = r.URL.Path
		if got != tc.want {
			t.Errorf("%s %s:\n got %+v\nwant %+v", tc.method, tc.url, got, tc.want)
		}
	}
}
