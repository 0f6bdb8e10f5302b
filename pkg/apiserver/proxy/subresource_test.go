package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

func TestSubresource(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path)
	}))
	defer backend.Close()
	var located []string
	sub := Subresource("pods", corev1.SchemeGroupVersion.WithKind("PodProxyOptions"), &corev1.PodProxyOptions{},
		func(registry.Store) Locator {
			return func(_ context.Context, ns, id string) (*url.URL, http.RoundTripper, error) {
				located = append(located, ns+"/"+id)
				if id == "gone" {
					return nil, nil, apierrors.NewNotFound(schemaResource("pods"), id)
				}
				u, _ := url.Parse(backend.URL + "/base")
				return u, http.DefaultTransport, nil
			}
		})
	if sub.Name != "proxy" || sub.Kind.Kind != "PodProxyOptions" || len(sub.ConnectMethods) != len(Methods) {
		t.Fatalf("subresource %+v", sub)
	}
	c := sub.Connecter(nil)
	for _, tc := range []struct {
		method, path, id string
		code             int
		body             string
	}{
		{"GET", "/api/v1/namespaces/ns/pods/p/proxy/a/b", "p", 200, "GET /base/a/b"},
		{"PUT", "/api/v1/namespaces/ns/pods/p/proxy/", "p", 200, "PUT /base/"},
		{"TRACE", "/api/v1/namespaces/ns/pods/p/proxy", "p", 405, `TRACE is not supported`},
		{"GET", "/api/v1/namespaces/ns/pods/gone/proxy", "gone", 404, `pods \"gone\" not found`},
	} {
		w := httptest.NewRecorder()
		c.Connect(w, httptest.NewRequest(tc.method, tc.path, nil), "ns", tc.id)
		if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, w.Code, w.Body.String(), tc.code, tc.body)
		}
	}
	if got := strings.Join(located, ","); got != "ns/p,ns/p,ns/gone" {
		t.Errorf("located %s", got)
	}
}
