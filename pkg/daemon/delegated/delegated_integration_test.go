package delegated_test

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/daemon/delegated"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// TestIntegrationDelegation: the scheduler's and controller-manager's
// delegation against the real apiserver with RBAC and upstream's bootstrap
// policy: anonymous gets the health checks and a 403 on /metrics, a
// bearer token is reviewed and its user authorized by RBAC, a certificate
// in system:monitoring reads /metrics, system:masters needs no review, and
// a forged token is a 401.
func TestIntegrationDelegation(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--authorization-mode=RBAC"}})
	o := delegated.NewOptions()
	o.AuthenticationKubeconfig, o.AuthorizationKubeconfig = inst.Kubeconfig, inst.Kubeconfig
	o.ClientCAFile = filepath.Join(inst.Dir, "ca.crt")
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	filter, err := o.Filter(context.Background(), "delegated-test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(filter.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := delegated.UserFrom(r.Context())
		_, _ = io.WriteString(w, "ok "+u.Name)
	})))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()

	prom, err := inst.CA.Issue(pki.ClientSpec("prometheus", "system:monitoring"))
	if err != nil {
		t.Fatal(err)
	}
	admin, err := inst.CA.Issue(pki.ClientSpec("root", "system:masters"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path, token string, cert *pki.KeyPair) (int, string) {
		t.Helper()
		tr := srv.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			tr.TLSClientConfig.Certificates = []tls.Certificate{cert.TLSCertificate()}
		}
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	for _, tc := range []struct {
		name, path, token string
		cert              *pki.KeyPair
		code              int
		body              string
	}{
		{"anonymous /healthz", "/healthz", "", nil, 200, "ok system:anonymous"},
		{"anonymous /readyz", "/readyz", "", nil, 200, "ok system:anonymous"},
		{"anonymous /metrics", "/metrics", "", nil, 403, `forbidden: User \"system:anonymous\" cannot get path \"/metrics\"`},
		{"token without RBAC", "/metrics", apiservertest.Token, nil, 403, `forbidden: User \"token-user\" cannot get path \"/metrics\"`},
		{"forged token", "/healthz", "not-a-token", nil, 401, `"reason":"Unauthorized"`},
		{"system:monitoring", "/metrics", "", prom, 200, "ok prometheus"},
		{"system:masters", "/debug/pprof/", "", admin, 200, "ok root"},
	} {
		if code, body := get(tc.path, tc.token, tc.cert); code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, code, body, tc.code, tc.body)
		}
	}
}
