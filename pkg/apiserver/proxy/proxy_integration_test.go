package proxy_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestIntegrationProxy(t *testing.T) {
	e := setup(t)
	if e.hostIP == "" {
		t.Skip("no global unicast address to serve the backends on (the proxies refuse loopback)")
	}
	port := e.startBackend(t)
	ctx := context.Background()
	if _, err := e.client.CoreV1().Services(e.ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "empty"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	pods := "/api/v1/namespaces/default/pods/"
	svcs := "/api/v1/namespaces/default/services/"
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"GET", pods + "web:" + port + "/proxy/some/path?x=1", "", 200, "GET /some/path?x=1 "},
		{"GET", pods + "web:" + port + "/proxy/dir/", "", 200, "GET /dir/ "},
		{"POST", pods + "http:web:" + port + "/proxy/form", "a=b", 200, "POST /form a=b"},
		{"DELETE", pods + "web:" + port + "/proxy/x", "", 200, "DELETE /x "},
		// The redirect is rewritten to go back through the apiserver.
		{"GET", pods + "web:" + port + "/proxy/redirect", "", 200, "GET /login "},
		{"GET", svcs + "websvc:http/proxy/redirect", "", 200, "GET /login "},
		{"GET", pods + "nope:80/proxy/", "", 404, `pods \"nope\" not found`},
		{"GET", pods + "a:b:c:d/proxy/", "", 400, `invalid pod request`},
		{"GET", svcs + "websvc:80/proxy/hi", "", 200, "GET /hi "},
		{"GET", svcs + "websvc:http/proxy/hi/", "", 200, "GET /hi/ "},
		{"PUT", svcs + "http:websvc:http/proxy/put", "body", 200, "PUT /put body"},
		{"GET", svcs + "websvc:81/proxy/", "", 503, `no service port 81 found for service \"websvc\"`},
		{"GET", svcs + "empty/proxy/", "", 503, `no endpoints available for service \"empty\"`},
		{"GET", svcs + "missing:80/proxy/", "", 404, `services \"missing\" not found`},
		{"GET", "/api/v1/nodes/node-1/proxy/healthz", "", 200, "ok"},
		{"GET", "/api/v1/nodes/node-1/proxy/pods", "", 200, `"kind":"PodList"`},
		{"GET", "/api/v1/nodes/node-1:" + port + "/proxy/other", "", 200, "GET /other "},
		{"GET", "/api/v1/nodes/gone/proxy/healthz", "", 404, `nodes \"gone\" not found`},
	} {
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		code, got := e.send(t, tc.method, tc.path, body)
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%s %s: %d %q, want %d with %q", tc.method, tc.path, code, got, tc.code, tc.want)
		}
	}
}

func TestIntegrationDiscovery(t *testing.T) {
	e := setup(t)
	list, err := e.client.Discovery().ServerResourcesForGroupVersion("v1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range list.APIResources {
		got[r.Name] = fmt.Sprintf("%s %v", r.Kind, r.Verbs)
	}
	proxyVerbs := "[create delete get patch update]"
	for name, want := range map[string]string{
		"pods/attach":              "PodAttachOptions [create get]",
		"pods/exec":                "PodExecOptions [create get]",
		"pods/portforward":         "PodPortForwardOptions [create get]",
		"pods/proxy":               "PodProxyOptions " + proxyVerbs,
		"pods/log":                 "Pod [get]",
		"pods/ephemeralcontainers": "Pod [get patch update]",
		"nodes/proxy":              "NodeProxyOptions " + proxyVerbs,
		"services/proxy":           "ServiceProxyOptions " + proxyVerbs,
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
	code, doc := e.send(t, "GET", "/openapi/v2", nil)
	if code != http.StatusOK {
		t.Fatalf("openapi/v2: %d %.300s", code, doc)
	}
	for _, op := range []string{"connectCoreV1PostNamespacedPodExec", "connectCoreV1GetNamespacedPodPortforward", "connectCoreV1PutNamespacedServiceProxyWithPath", "connectCoreV1GetNodeProxyWithPath", "connectCoreV1OptionsNamespacedPodProxy", "patchCoreV1NamespacedPodEphemeralcontainers"} {
		if !strings.Contains(doc, `"`+op+`"`) {
			t.Errorf("openapi/v2 lacks %s", op)
		}
	}
}
