package certificate

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	testingclock "k8s.io/utils/clock/testing"
)

// testCA signs certificates for the tests.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Unix(0, 0), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// sign issues a certificate for the request's subject and key, valid from
// notBefore for life.
func (ca *testCA) sign(t *testing.T, pub crypto.PublicKey, subject pkix.Name, notBefore time.Time, life time.Duration) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subject, NotBefore: notBefore,
		NotAfter: notBefore.Add(life), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// signCSR signs a CSR's request.
func (ca *testCA) signCSR(t *testing.T, csr *certificatesv1.CertificateSigningRequest, notBefore time.Time, life time.Duration) []byte {
	req, err := parseRequest(csr.Spec.Request)
	if err != nil {
		t.Fatal(err)
	}
	return ca.sign(t, req.PublicKey, req.Subject, notBefore, life)
}

// fakeSigner makes client's CSR creates get a UID (and a name from
// generateName) and, when approve, the Approved condition and a
// certificate for life from clock's now.
func fakeSigner(t *testing.T, client *fake.Clientset, ca *testCA, c *testingclock.FakeClock, life time.Duration, outcome func(*certificatesv1.CertificateSigningRequest)) *atomic.Int32 {
	var n atomic.Int32
	client.PrependReactor("create", "certificatesigningrequests", func(a k8stesting.Action) (bool, runtime.Object, error) {
		csr := a.(k8stesting.CreateAction).GetObject().(*certificatesv1.CertificateSigningRequest)
		i := n.Add(1)
		if csr.Name == "" {
			csr.Name = csr.GenerateName + string(rune('a'+i))
		}
		csr.UID = types.UID(csr.Name)
		if outcome != nil {
			outcome(csr)
		} else {
			csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
			csr.Status.Certificate = ca.signCSR(t, csr, c.Now(), life)
		}
		return false, nil, nil
	})
	return &n
}

// writeBootstrapKubeconfig writes a token kubeconfig for the CA.
func writeBootstrapKubeconfig(t *testing.T, path string, ca *testCA) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://10.0.0.1:6443", CertificateAuthorityData: ca.pem}
	cfg.AuthInfos["tls-bootstrap-token-user"] = &clientcmdapi.AuthInfo{Token: "abcdef.0123456789abcdef"}
	cfg.Contexts["ctx"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "tls-bootstrap-token-user"}
	cfg.CurrentContext = "ctx"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

var start = time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)

func TestBootstrapRequestsCertificateAndWritesKubeconfig(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	c := testingclock.NewFakeClock(start)
	client := fake.NewClientset()
	creates := fakeSigner(t, client, ca, c, 24*time.Hour, nil)
	b := Bootstrap{Kubeconfig: filepath.Join(dir, "kubelet.conf"), BootstrapKubeconfig: filepath.Join(dir, "bootstrap-kubelet.conf"),
		CertDir: filepath.Join(dir, "pki"), NodeName: "worker", Clock: c,
		NewClient: func(cfg *rest.Config) (kubernetes.Interface, error) {
			if cfg.BearerToken != "abcdef.0123456789abcdef" {
				t.Errorf("bootstrap client token %q", cfg.BearerToken)
			}
			return client, nil
		}}
	writeBootstrapKubeconfig(t, b.BootstrapKubeconfig, ca)
	if err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	csrs, _ := client.CertificatesV1().CertificateSigningRequests().List(context.Background(), listAll)
	if len(csrs.Items) != 1 {
		t.Fatalf("%d CSRs", len(csrs.Items))
	}
	csr := csrs.Items[0]
	req, _ := parseRequest(csr.Spec.Request)
	if !strings.HasPrefix(csr.Name, "node-csr-") || csr.Spec.SignerName != certificatesv1.KubeAPIServerClientKubeletSignerName ||
		!slices.Equal(csr.Spec.Usages, []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}) ||
		req.Subject.CommonName != "system:node:worker" || !slices.Equal(req.Subject.Organization, []string{"system:nodes"}) {
		t.Errorf("CSR %s: signer %s usages %v subject %v", csr.Name, csr.Spec.SignerName, csr.Spec.Usages, req.Subject)
	}
	if pub, ok := req.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key %T, want ECDSA P-256", req.PublicKey)
	}
	target, err := os.Readlink(filepath.Join(b.CertDir, "kubelet-client-current.pem"))
	if err != nil || target != "kubelet-client-2026-12-07-04-00-00.pem" {
		t.Errorf("current symlink -> %q (%v)", target, err)
	}
	if _, err := os.Stat(filepath.Join(b.CertDir, "kubelet-client.key.tmp")); !os.IsNotExist(err) {
		t.Errorf("pending key left behind: %v", err)
	}
	kc, err := clientcmd.LoadFromFile(b.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	current := filepath.Join(b.CertDir, "kubelet-client-current.pem")
	auth, cluster := kc.AuthInfos[kc.Contexts[kc.CurrentContext].AuthInfo], kc.Clusters[kc.Contexts[kc.CurrentContext].Cluster]
	if auth.ClientCertificate != current || auth.ClientKey != current || cluster.Server != "https://10.0.0.1:6443" ||
		string(cluster.CertificateAuthorityData) != string(ca.pem) {
		t.Errorf("kubeconfig: auth %+v cluster %+v", auth, cluster)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", b.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := rest.LoadTLSFiles(cfg); err != nil {
		t.Fatal(err)
	}
	pair, err := parsePair(cfg.CertData, cfg.KeyData)
	if err != nil || pair.Leaf.Subject.CommonName != "system:node:worker" {
		t.Fatalf("kubeconfig's pair: %v", err)
	}

	// Valid credentials: nothing to do.
	if err := b.Run(context.Background()); err != nil || creates.Load() != 1 {
		t.Errorf("second run: %v, %d creates", err, creates.Load())
	}
	// Expired: a new request.
	c.Step(25 * time.Hour)
	if err := b.Run(context.Background()); err != nil || creates.Load() != 2 {
		t.Errorf("run after expiry: %v, %d creates", err, creates.Load())
	}
}

var listAll = metav1ListOptions()

func TestBootstrapDenied(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	c := testingclock.NewFakeClock(start)
	client := fake.NewClientset()
	fakeSigner(t, client, ca, c, time.Hour, func(csr *certificatesv1.CertificateSigningRequest) {
		csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateDenied,
			Status: corev1.ConditionTrue, Reason: "NoWay", Message: "not you"}}
	})
	b := Bootstrap{Kubeconfig: filepath.Join(dir, "kubelet.conf"), BootstrapKubeconfig: filepath.Join(dir, "boot.conf"),
		CertDir: filepath.Join(dir, "pki"), NodeName: "worker", Clock: c,
		NewClient: func(*rest.Config) (kubernetes.Interface, error) { return client, nil }}
	writeBootstrapKubeconfig(t, b.BootstrapKubeconfig, ca)
	err := b.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is denied, reason: NoWay, message: not you") {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(b.Kubeconfig); !os.IsNotExist(err) {
		t.Errorf("kubeconfig written after a denial")
	}
	// The pending key is kept: a restart asks for the same CSR name again.
	if _, err := os.Stat(filepath.Join(b.CertDir, "kubelet-client.key.tmp")); err != nil {
		t.Error(err)
	}
}

func TestBootstrapWaitsForApprovalThroughWatch(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	c := testingclock.NewFakeClock(start)
	client := fake.NewClientset()
	fakeSigner(t, client, ca, c, time.Hour, func(*certificatesv1.CertificateSigningRequest) {})
	b := Bootstrap{Kubeconfig: filepath.Join(dir, "kubelet.conf"), BootstrapKubeconfig: filepath.Join(dir, "boot.conf"),
		CertDir: filepath.Join(dir, "pki"), NodeName: "worker", Clock: c,
		NewClient: func(*rest.Config) (kubernetes.Interface, error) { return client, nil }}
	writeBootstrapKubeconfig(t, b.BootstrapKubeconfig, ca)
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background()) }()
	waitFor(t, func() bool {
		return slices.ContainsFunc(client.Actions(), func(a k8stesting.Action) bool { return a.GetVerb() == "watch" })
	})
	csrs := client.CertificatesV1().CertificateSigningRequests()
	list, _ := csrs.List(context.Background(), listAll)
	csr := list.Items[0]
	csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}
	csr.Status.Certificate = ca.signCSR(t, &csr, c.Now(), time.Hour)
	if _, err := csrs.UpdateStatus(context.Background(), &csr, metav1UpdateOptions()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("bootstrap did not see the certificate")
	}
	if _, err := os.Stat(b.Kubeconfig); err != nil {
		t.Error(err)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met")
}

// newStore returns a store in a temp dir holding a pair for subject valid
// for life from notBefore.
func newStore(t *testing.T, ca *testCA, subject pkix.Name, notBefore time.Time, life time.Duration, c *testingclock.FakeClock) *Store {
	key, keyPEM, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{Dir: t.TempDir(), Clock: c}
	if _, err := s.Update(ca.sign(t, key.Public(), subject, notBefore, life), keyPEM); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestManagerDeadline(t *testing.T) {
	ca := newTestCA(t)
	c := testingclock.NewFakeClock(start)
	store := newStore(t, ca, Subject("worker"), start, 100*time.Hour, c)
	for _, tc := range []struct {
		rand float64
		want time.Duration
	}{{0, 70 * time.Hour}, {0.5, 80 * time.Hour}, {0.999999, 90 * time.Hour}} {
		m, err := NewManager(ManagerConfig{NodeName: "worker", Store: store, Clock: c, Rand: func() float64 { return tc.rand }})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.NextDeadline().Sub(start); got.Round(time.Second) != tc.want {
			t.Errorf("rand %v: deadline after %v, want %v", tc.rand, got, tc.want)
		}
	}
	// Another node's certificate is replaced at once.
	m, _ := NewManager(ManagerConfig{NodeName: "other", Store: store, Clock: c})
	if !m.NextDeadline().Equal(start) {
		t.Errorf("deadline for a certificate of another node: %v", m.NextDeadline())
	}
	if m.Current() == nil {
		t.Error("Current nil while valid")
	}
	c.Step(101 * time.Hour)
	if m.Current() != nil {
		t.Error("Current not nil after expiry")
	}
}

func TestManagerRotatesAtDeadline(t *testing.T) {
	ca := newTestCA(t)
	c := testingclock.NewFakeClock(start)
	store := newStore(t, ca, Subject("worker"), start, 10*time.Hour, c)
	client := fake.NewClientset()
	creates := fakeSigner(t, client, ca, c, 10*time.Hour, nil)
	var rotated atomic.Int32
	m, err := NewManager(ManagerConfig{NodeName: "worker", Store: store, Client: client, Clock: c,
		Rand: func() float64 { return 0.5 }, OnRotate: func() { rotated.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	first := m.Current()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitFor(t, c.HasWaiters)
	c.Step(7*time.Hour + 59*time.Minute)
	time.Sleep(50 * time.Millisecond)
	if creates.Load() != 0 {
		t.Fatal("rotated before the deadline")
	}
	c.Step(time.Minute)
	waitFor(t, func() bool { return rotated.Load() == 1 })
	second := m.Current()
	if second == first || second.Leaf.Subject.CommonName != "system:node:worker" || !second.Leaf.NotBefore.Equal(start.Add(8*time.Hour)) {
		t.Errorf("after rotation: %v", second.Leaf.Subject)
	}
	csrs, _ := client.CertificatesV1().CertificateSigningRequests().List(ctx, listAll)
	if len(csrs.Items) != 1 || !strings.HasPrefix(csrs.Items[0].Name, "csr-") {
		t.Errorf("CSRs %v", csrs.Items)
	}
	onDisk, err := store.Current()
	if err != nil || !onDisk.Leaf.Equal(second.Leaf) {
		t.Errorf("store's current is not the new certificate: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestManagerExpiresWhileRenewalsFail(t *testing.T) {
	ca := newTestCA(t)
	c := testingclock.NewFakeClock(start)
	store := newStore(t, ca, Subject("worker"), start, time.Hour, c)
	client := fake.NewClientset()
	fakeSigner(t, client, ca, c, time.Hour, func(csr *certificatesv1.CertificateSigningRequest) {
		csr.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateFailed, Reason: "X"}}
	})
	m, _ := NewManager(ManagerConfig{NodeName: "worker", Store: store, Client: client, Clock: c, Rand: func() float64 { return 0 }})
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	for i := 0; ; i++ {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), ErrExpired.Error()) {
				t.Fatalf("Run: %v", err)
			}
			return
		default:
		}
		if i > 2000 {
			t.Fatal("Run did not give up after expiry")
		}
		if c.HasWaiters() {
			c.Step(time.Minute)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestTransportPresentsCurrentCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			_, _ = w.Write([]byte("none"))
			return
		}
		_, _ = w.Write([]byte(r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	ca := newTestCA(t)
	pairFor := func(node string) *tls.Certificate {
		key, keyPEM, _ := newKey()
		pair, err := parsePair(ca.sign(t, key.Public(), Subject(node), time.Now().Add(-time.Minute), time.Hour), keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return pair
	}
	var cur atomic.Pointer[tls.Certificate]
	cur.Store(pairFor("a"))
	dir := t.TempDir()
	certFile := filepath.Join(dir, "c.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cur.Load().Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	keyPEM, _ := x509.MarshalPKCS8PrivateKey(cur.Load().PrivateKey)
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM, CertFile: certFile,
		KeyData: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyPEM})}}
	closeAll, err := Transport(cfg, cur.Load)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CertFile != "" || len(cfg.KeyData) != 0 || cfg.Transport == nil {
		t.Fatalf("config not rewritten: %+v", cfg.TLSClientConfig)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	who := func() string {
		b, err := client.Discovery().RESTClient().Get().AbsPath("/").DoRaw(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := who(); got != "system:node:a" {
		t.Fatalf("first request as %q", got)
	}
	cur.Store(pairFor("b"))
	if got := who(); got != "system:node:a" {
		t.Errorf("kept-alive connection as %q", got)
	}
	closeAll()
	if got := who(); got != "system:node:b" {
		t.Errorf("after closeAll as %q", got)
	}
	cur.Store(nil)
	closeAll()
	if got := who(); got != "none" {
		t.Errorf("without a certificate as %q", got)
	}
}

func metav1ListOptions() metav1.ListOptions     { return metav1.ListOptions{} }
func metav1UpdateOptions() metav1.UpdateOptions { return metav1.UpdateOptions{} }
