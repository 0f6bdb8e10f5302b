package server

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kinc-dev/kinc/pkg/daemon/delegated"
)

func TestAttributes(t *testing.T) {
	t.Parallel()
	attrs := Attributes("node-1")
	for _, tc := range []struct {
		method, path string
		verb         string
		subresources []string
	}{
		{"GET", "/stats/summary", "get", []string{"stats"}},
		{"GET", "/metrics", "get", []string{"metrics"}},
		{"GET", "/metrics/cadvisor", "get", []string{"metrics"}},
		{"GET", "/metricsfoo", "get", []string{"proxy"}},
		{"GET", "/logs/syslog", "get", []string{"log"}},
		{"POST", "/checkpoint/ns/p/c", "create", []string{"checkpoint"}},
		{"GET", "/pods", "get", []string{"pods", "proxy"}},
		{"GET", "/runningpods/", "get", []string{"pods", "proxy"}},
		{"GET", "/healthz", "get", []string{"healthz", "proxy"}},
		{"GET", "/configz", "get", []string{"configz", "proxy"}},
		{"POST", "/exec/ns/p/c", "create", []string{"proxy"}},
		{"GET", "/containerLogs/ns/p/c", "get", []string{"proxy"}},
		{"POST", "/portForward/ns/p", "create", []string{"proxy"}},
		{"GET", "/spec/", "get", []string{"proxy"}},
		{"PUT", "/run/ns/p/c", "update", []string{"proxy"}},
	} {
		got := attrs(httptest.NewRequest(tc.method, tc.path, nil), &delegated.User{Name: "u"})
		var subs []string
		for _, a := range got {
			subs = append(subs, a.Subresource)
			if a.Verb != tc.verb || a.Resource != "nodes" || a.Name != "node-1" || !a.ResourceRequest || a.APIVersion != "v1" || a.User.Name != "u" {
				t.Errorf("%s %s: %+v", tc.method, tc.path, a)
			}
		}
		if !slices.Equal(subs, tc.subresources) {
			t.Errorf("%s %s: subresources %v, want %v", tc.method, tc.path, subs, tc.subresources)
		}
	}
}

// TestWebhookAuth: bearer tokens through TokenReview, each request
// through a SubjectAccessReview of the node's subresource, upstream's
// kubelet answers.
func TestWebhookAuth(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	users := map[string]authenticationv1.UserInfo{
		"apiserver": {Username: "kube-apiserver-kubelet-client", Groups: []string{"kubeadm:cluster-admins"}},
		"alice":     {Username: "alice"},
		"monitor":   {Username: "prometheus"},
		"broken":    {Username: "broken"},
	}
	client.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		tr.Status.User, tr.Status.Authenticated = users[tr.Spec.Token]
		return true, tr, nil
	})
	var asked []authorizationv1.ResourceAttributes
	client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		ra := *sar.Spec.ResourceAttributes
		asked = append(asked, ra)
		switch sar.Spec.User {
		case "broken":
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}, "", errors.New("no"))
		case "alice":
			sar.Status.Allowed = ra.Subresource == "pods"
		case "prometheus":
			sar.Status.Allowed = ra.Subresource == "metrics" || ra.Subresource == "stats"
		default:
			sar.Status.Allowed = slices.Contains(sar.Spec.Groups, "kubeadm:cluster-admins")
		}
		return true, sar, nil
	})
	filter, err := Auth{NodeName: "kind-worker", Webhook: true, Mode: "Webhook", Client: client}.Filter()
	if err != nil {
		t.Fatal(err)
	}
	h := filter.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "served") }))
	for _, tc := range []struct {
		token, method, path string
		code                int
		body                string
	}{
		{"", "GET", "/pods", 401, "Unauthorized"},
		{"forged", "GET", "/pods", 401, "Unauthorized"},
		{"apiserver", "POST", "/exec/ns/p/c", 200, "served"},
		{"alice", "GET", "/pods", 200, "served"},
		{"alice", "POST", "/exec/ns/p/c", 403, "Forbidden (user=alice, verb=create, resource=nodes, subresource(s)=[proxy])\n"},
		{"alice", "GET", "/healthz", 403, "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[healthz proxy])\n"},
		{"monitor", "GET", "/metrics/cadvisor", 200, "served"},
		{"monitor", "GET", "/stats/summary", 200, "served"},
		{"monitor", "GET", "/logs/", 403, "Forbidden (user=prometheus, verb=get, resource=nodes, subresource(s)=[log])\n"},
		{"broken", "GET", "/configz", 500, "Authorization error (user=broken, verb=get, resource=nodes, subresource=configz)"},
	} {
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code || rec.Body.String() != tc.body {
			t.Errorf("%s %s as %q: %d %q, want %d %q", tc.method, tc.path, tc.token, rec.Code, rec.Body.String(), tc.code, tc.body)
		}
	}
	for _, ra := range asked {
		if ra.Name != "kind-worker" || ra.Resource != "nodes" || ra.Version != "v1" || ra.Group != "" {
			t.Errorf("asked %+v, want the node kind-worker", ra)
		}
	}

	if _, err := (Auth{NodeName: "n", Webhook: true, Mode: "AlwaysAllow"}).Filter(); err == nil || !strings.Contains(err.Error(), "cannot use webhook authentication") {
		t.Errorf("webhook without a client: %v", err)
	}
	if _, err := (Auth{NodeName: "n", Anonymous: true, Mode: "Webhook"}).Filter(); err == nil || !strings.Contains(err.Error(), "cannot use webhook authorization") {
		t.Errorf("Webhook mode without a client: %v", err)
	}
	if _, err := (Auth{NodeName: "n", Mode: "AlwaysAllow"}).Filter(); err == nil {
		t.Error("no authentication method: no error")
	}
	anon, err := Auth{NodeName: "n", Anonymous: true, Mode: "AlwaysAllow"}.Filter()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	anon.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := delegated.UserFrom(r.Context())
		_, _ = io.WriteString(w, u.Name)
	})).ServeHTTP(rec, httptest.NewRequest("GET", "/pods", nil))
	if rec.Code != 200 || rec.Body.String() != "system:anonymous" {
		t.Errorf("anonymous with AlwaysAllow: %d %q", rec.Code, rec.Body.String())
	}
}
