package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// testCert is a certificate with its key.
type testCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// certSpec describes a certificate to issue; zero times mean valid now.
type certSpec struct {
	cn        string
	orgs      []string
	isCA      bool
	notBefore time.Time
	notAfter  time.Time
	usages    []x509.ExtKeyUsage
}

var serial int64

// issue signs spec with parent (self-signed when parent is nil).
func issue(t *testing.T, spec certSpec, parent *testCert) *testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if spec.notBefore.IsZero() {
		spec.notBefore = time.Now().Add(-time.Hour)
	}
	if spec.notAfter.IsZero() {
		spec.notAfter = time.Now().Add(time.Hour)
	}
	if spec.usages == nil && !spec.isCA {
		spec.usages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: spec.cn, Organization: spec.orgs},
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		IsCA:                  spec.isCA,
		BasicConstraintsValid: true,
		ExtKeyUsage:           spec.usages,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if spec.isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCert{cert: cert, key: key}
}

func pool(cas ...*testCert) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cas {
		p.AddCert(c.cert)
	}
	return p
}

// requestWith returns a request whose TLS state presents chain, as a server
// that did not verify it (VerifyClientCertIfGiven without ClientCAs) sees it.
func requestWith(chain ...*testCert) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://apiserver/api", nil)
	r.TLS = &tls.ConnectionState{}
	for _, c := range chain {
		r.TLS.PeerCertificates = append(r.TLS.PeerCertificates, c.cert)
	}
	return r
}

func TestX509(t *testing.T) {
	ca := issue(t, certSpec{cn: "kubernetes", isCA: true}, nil)
	otherCA := issue(t, certSpec{cn: "other", isCA: true}, nil)
	inter := issue(t, certSpec{cn: "intermediate", isCA: true}, ca)
	a := X509{Roots: pool(ca)}

	tests := []struct {
		name       string
		r          *http.Request
		wantOK     bool
		wantErr    bool
		wantUser   string
		wantGroups []string
	}{
		{name: "no TLS", r: httptest.NewRequest(http.MethodGet, "http://apiserver/api", nil)},
		{name: "TLS without a client certificate", r: requestWith()},
		{name: "valid: user from CN, groups from O", wantOK: true,
			r:        requestWith(issue(t, certSpec{cn: "kubernetes-admin", orgs: []string{"kubeadm:cluster-admins", "devs"}}, ca)),
			wantUser: "kubernetes-admin", wantGroups: []string{"devs", "kubeadm:cluster-admins", GroupAuthenticated}}, // DER sorts a SET
		{name: "valid without organization", wantOK: true,
			r:        requestWith(issue(t, certSpec{cn: "system:kube-scheduler"}, ca)),
			wantUser: "system:kube-scheduler", wantGroups: []string{GroupAuthenticated}},
		{name: "through an intermediate sent by the client", wantOK: true,
			r:        requestWith(issue(t, certSpec{cn: "alice", orgs: []string{"team"}}, inter), inter),
			wantUser: "alice", wantGroups: []string{"team", GroupAuthenticated}},
		{name: "intermediate not sent", wantErr: true, r: requestWith(issue(t, certSpec{cn: "alice"}, inter))},
		{name: "signed by another CA", wantErr: true, r: requestWith(issue(t, certSpec{cn: "mallory"}, otherCA))},
		{name: "self-signed", wantErr: true, r: requestWith(issue(t, certSpec{cn: "mallory"}, nil))},
		{name: "expired", wantErr: true, r: requestWith(issue(t, certSpec{cn: "old",
			notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-24 * time.Hour)}, ca))},
		{name: "not yet valid", wantErr: true, r: requestWith(issue(t, certSpec{cn: "early",
			notBefore: time.Now().Add(24 * time.Hour), notAfter: time.Now().Add(48 * time.Hour)}, ca))},
		{name: "server certificate", wantErr: true, r: requestWith(issue(t, certSpec{cn: "apiserver",
			usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca))},
		{name: "no common name", wantErr: true, r: requestWith(issue(t, certSpec{orgs: []string{"system:masters"}}, ca))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, ok, err := a.AuthenticateRequest(tt.r)
			if ok != tt.wantOK || (err != nil) != tt.wantErr {
				t.Fatalf("ok %v err %v, want ok %v err %v", ok, err, tt.wantOK, tt.wantErr)
			}
			if !ok {
				if user != nil {
					t.Errorf("user %+v without ok", user)
				}
				return
			}
			if user.Name != tt.wantUser || !slices.Equal(user.Groups, tt.wantGroups) {
				t.Errorf("user %q groups %v, want %q %v", user.Name, user.Groups, tt.wantUser, tt.wantGroups)
			}
		})
	}
}

// TestX509TrustsTheHandshake: a chain the TLS handshake verified (against
// ClientCAs that must be the same roots) is not verified again.
func TestX509TrustsTheHandshake(t *testing.T) {
	ca := issue(t, certSpec{cn: "ca", isCA: true}, nil)
	leaf := issue(t, certSpec{cn: "bob", orgs: []string{"g"}}, ca)
	r := requestWith(leaf)
	r.TLS.VerifiedChains = [][]*x509.Certificate{{leaf.cert, ca.cert}}
	user, ok, err := X509{Roots: x509.NewCertPool()}.AuthenticateRequest(r)
	if err != nil || !ok || user.Name != "bob" {
		t.Fatalf("got %+v %v %v, want bob", user, ok, err)
	}
}

// TestX509OverTLS authenticates through a real handshake, as the apiserver
// serves: client certificates verified if given, against the client CA.
func TestX509OverTLS(t *testing.T) {
	ca := issue(t, certSpec{cn: "ca", isCA: true}, nil)
	a := X509{Roots: pool(ca)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, ok, err := a.AuthenticateRequest(r)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusUnauthorized)
		case !ok:
			_, _ = w.Write([]byte("anonymous"))
		default:
			_, _ = w.Write([]byte(user.Name))
		}
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool(ca)}
	srv.StartTLS()
	defer srv.Close()

	get := func(cert *testCert) (string, error) {
		transport := srv.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			// Sent whatever CAs the server asks for (Go's client would
			// otherwise withhold a certificate of another CA).
			transport.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				return &tls.Certificate{Certificate: [][]byte{cert.cert.Raw}, PrivateKey: cert.key}, nil
			}
		}
		defer transport.CloseIdleConnections()
		resp, err := (&http.Client{Transport: transport, Timeout: 10 * time.Second}).Get(srv.URL)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		buf := make([]byte, 64)
		n, _ := resp.Body.Read(buf)
		return string(buf[:n]), nil
	}
	if got, err := get(issue(t, certSpec{cn: "carol"}, ca)); err != nil || got != "carol" {
		t.Errorf("valid client certificate: %q %v, want carol", got, err)
	}
	if got, err := get(nil); err != nil || got != "anonymous" {
		t.Errorf("no client certificate: %q %v, want anonymous", got, err)
	}
	other := issue(t, certSpec{cn: "other", isCA: true}, nil)
	if got, err := get(issue(t, certSpec{cn: "mallory"}, other)); err == nil {
		t.Errorf("certificate of another CA accepted: %q", got)
	}
}

type fakeAuthenticator struct {
	user *User
	ok   bool
	err  error
}

func (f fakeAuthenticator) AuthenticateRequest(*http.Request) (*User, bool, error) {
	return f.user, f.ok, f.err
}

func TestUnion(t *testing.T) {
	alice := &User{Name: "alice"}
	bad := errors.New("bad credentials")
	worse := errors.New("worse")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	tests := []struct {
		name    string
		u       Union
		want    *User
		wantErr error
	}{
		{name: "empty", u: Union{}},
		{name: "none recognizes", u: Union{fakeAuthenticator{}, fakeAuthenticator{}}},
		{name: "first that recognizes decides", u: Union{fakeAuthenticator{}, fakeAuthenticator{user: alice, ok: true},
			fakeAuthenticator{user: &User{Name: "bob"}, ok: true}}, want: alice},
		{name: "a later success wins over an error", u: Union{fakeAuthenticator{err: bad}, fakeAuthenticator{user: alice, ok: true}}, want: alice},
		{name: "the first error is reported", u: Union{fakeAuthenticator{}, fakeAuthenticator{err: bad}, fakeAuthenticator{err: worse}}, wantErr: bad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, ok, err := tt.u.AuthenticateRequest(r)
			if user != tt.want || ok != (tt.want != nil) || err != tt.wantErr {
				t.Errorf("got %v %v %v, want %v %v", user, ok, err, tt.want, tt.wantErr)
			}
		})
	}
}
