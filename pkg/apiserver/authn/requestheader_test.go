package authn

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestRequestHeader(t *testing.T) {
	proxyCA := issue(t, certSpec{cn: "front-proxy-ca", isCA: true}, nil)
	clientCA := issue(t, certSpec{cn: "kubernetes", isCA: true}, nil)
	proxy := issue(t, certSpec{cn: "front-proxy-client"}, proxyCA)
	otherProxy := issue(t, certSpec{cn: "someone"}, proxyCA)
	serverOnly := issue(t, certSpec{cn: "front-proxy-client", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, proxyCA)
	admin := issue(t, certSpec{cn: "admin", orgs: []string{"system:masters"}}, clientCA)
	a := NewRequestHeader(RequestHeaderConfig{CAs: []*x509.Certificate{proxyCA.cert}, AllowedNames: []string{"front-proxy-client"},
		UsernameHeaders: []string{"X-Remote-User"}, UIDHeaders: []string{"X-Remote-Uid"}, GroupHeaders: []string{"X-Remote-Group"},
		ExtraHeaderPrefixes: []string{"X-Remote-Extra-"}})
	req := func(c *testCert) *http.Request {
		r := httptest.NewRequest("GET", "/api", nil)
		if c != nil {
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{c.cert}}
		}
		r.Header.Set("X-Remote-User", "alice")
		r.Header.Set("X-Remote-Uid", "u-1")
		r.Header.Add("X-Remote-Group", "devs")
		r.Header.Add("X-Remote-Group", "ops")
		r.Header.Add("X-Remote-Extra-Scopes", "a")
		r.Header.Add("X-Remote-Extra-Scopes", "b")
		r.Header.Add("X-Remote-Extra-Acme.com%2Fproject", "p")
		return r
	}
	r := req(proxy)
	u, ok, err := a.AuthenticateRequest(r)
	want := &User{Name: "alice", UID: "u-1", Groups: []string{"devs", "ops", "system:authenticated"},
		Extra: map[string][]string{"scopes": {"a", "b"}, "acme.com/project": {"p"}}}
	if !ok || err != nil || !reflect.DeepEqual(u, want) {
		t.Fatalf("AuthenticateRequest = %+v %v %v", u, ok, err)
	}
	for h := range r.Header {
		t.Errorf("header %s left on the request", h)
	}
	for name, c := range map[string]*testCert{"other CA": admin, "name not allowed": otherProxy, "not for client auth": serverOnly} {
		if u, ok, err := a.AuthenticateRequest(req(c)); ok || u != nil || err == nil {
			t.Errorf("%s: %+v %v %v", name, u, ok, err)
		}
	}
	if _, ok, err := a.AuthenticateRequest(req(nil)); ok || err != nil {
		t.Errorf("no certificate: ok=%v err=%v", ok, err)
	}
	r = req(proxy)
	r.Header.Del("X-Remote-User")
	if _, ok, err := a.AuthenticateRequest(r); ok || err != nil {
		t.Errorf("no user header: ok=%v err=%v", ok, err)
	}
	// Any name when AllowedNames is empty.
	a = NewRequestHeader(RequestHeaderConfig{CAs: []*x509.Certificate{proxyCA.cert}, UsernameHeaders: []string{"X-Remote-User"}})
	if u, ok, err := a.AuthenticateRequest(req(otherProxy)); !ok || err != nil || u.Name != "alice" || u.Extra != nil {
		t.Errorf("any name: %+v %v %v", u, ok, err)
	}
}
