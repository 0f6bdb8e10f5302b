package certificates_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/approver"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/signer"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// sarRecorder passes requests on and records the SubjectAccessReviews a
// client creates.
type sarRecorder struct {
	next    http.RoundTripper
	mu      sync.Mutex
	reviews []authorizationv1.SubjectAccessReviewSpec
}

func (s *sarRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/apis/authorization.k8s.io/v1/subjectaccessreviews") {
		return s.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, &authorizationv1.SubjectAccessReview{}); err == nil {
		s.mu.Lock()
		s.reviews = append(s.reviews, obj.(*authorizationv1.SubjectAccessReview).Spec)
		s.mu.Unlock()
	}
	return s.next.RoundTrip(req)
}

func (s *sarRecorder) subresources() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.reviews {
		out = append(out, r.User+"/"+r.ResourceAttributes.Subresource)
	}
	return out
}

// TestIntegrationKubeletCertificates runs the approving and signing
// controllers against the real kube-apiserver on etcd: a node's own
// kubelet client CSR is approved (selfnodeclient) and signed, a token
// user's one for another node too (nodeclient); the certificates verify
// against the cluster CA with the requested subjects. A kubelet serving
// CSR is not auto-approved; approved by the test, it is signed with the
// requested IP SANs for expirationSeconds. One asking for client auth
// fails with SignerValidationFailure. The approver's reviews are decided by
// the apiserver's RBAC with kubeadm's bindings: a requester without the
// nodeclient permission stays pending.
func TestIntegrationKubeletCertificates(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--authorization-mode=Node,RBAC"}})
	admin := inst.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// kubeadm's bindings, with the token user standing in for a bootstrap
	// token's group; "stranger" may create CSRs but not have them approved.
	bind := func(name, role string, subject rbacv1.Subject) {
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{subject}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	group := func(name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
	}
	bind("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", group("token-group"))
	bind("kubeadm:node-autoapprove-bootstrap", "system:certificates.k8s.io:certificatesigningrequests:nodeclient", group("token-group"))
	bind("kubeadm:node-autoapprove-certificate-rotation", "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", group("system:nodes"))
	bind("stranger-bootstrap", "system:node-bootstrapper", rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "stranger"})

	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := os.WriteFile(certFile, inst.CA.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, inst.CA.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ca, err := signer.NewFileCA(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cas := map[string]signer.CAProvider{}
	for _, name := range signer.Signers() {
		cas[name] = ca
	}
	reviews := &sarRecorder{}
	approverCfg := rest.CopyConfig(inst.Config)
	approverCfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { reviews.next = rt; return reviews })
	approverClient, err := kubernetes.NewForConfig(approverCfg)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	factory := informers.NewSharedInformerFactory(admin, 0)
	csrInformer := factory.Certificates().V1().CertificateSigningRequests()
	s, err := signer.New(admin, csrInformer, signer.Options{CAs: cas, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	a := approver.New(approverClient, csrInformer, approver.Options{Logger: logger})
	factory.Start(ctx.Done())
	var wg sync.WaitGroup
	for _, c := range []interface {
		Run(context.Context, int) error
	}{s, a} {
		wg.Go(func() {
			if err := c.Run(ctx, 2); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	defer func() { cancel(); wg.Wait(); factory.Shutdown() }()

	node := clientAs(t, inst, "system:node:worker", "system:nodes")
	tokenCfg := rest.AnonymousClientConfig(inst.Config)
	tokenCfg.BearerToken = apiservertest.Token
	bootstrap, err := kubernetes.NewForConfig(tokenCfg)
	if err != nil {
		t.Fatal(err)
	}
	clientUsages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	servingUsages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
	nodeName := func(n string) pkix.Name {
		return pkix.Name{CommonName: "system:node:" + n, Organization: []string{"system:nodes"}}
	}
	ips := []net.IP{net.ParseIP("172.18.0.3").To4(), net.ParseIP("fc00:f853:ccd:e793::3")}

	create(ctx, t, node, "self", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeName("worker")}, clientUsages, nil)
	create(ctx, t, bootstrap, "node-csr-boot", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeName("worker2")}, clientUsages, nil)
	create(ctx, t, clientAs(t, inst, "stranger"), "node-csr-stranger", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeName("worker3")}, clientUsages, nil)
	create(ctx, t, node, "serving", certificatesv1.KubeletServingSignerName,
		x509.CertificateRequest{Subject: nodeName("worker"), DNSNames: []string{"worker"}, IPAddresses: ips}, servingUsages, ptr.To[int32](600))
	create(ctx, t, node, "bad-usage", certificatesv1.KubeletServingSignerName,
		x509.CertificateRequest{Subject: nodeName("worker"), IPAddresses: ips}, clientUsages, nil)

	for name, want := range map[string]struct{ cn, message string }{
		"self":          {"system:node:worker", approver.SelfNodeClientMessage},
		"node-csr-boot": {"system:node:worker2", approver.NodeClientMessage},
	} {
		csr := waitFor(ctx, t, admin, name, func(c *certificatesv1.CertificateSigningRequest) bool { return len(c.Status.Certificate) > 0 })
		cond := condition(csr, certificatesv1.CertificateApproved)
		if cond == nil || cond.Reason != "AutoApproved" || cond.Message != want.message {
			t.Errorf("%s: Approved condition %+v, want AutoApproved %q", name, cond, want.message)
		}
		cert := verify(t, inst.CA, csr, x509.ExtKeyUsageClientAuth)
		if cert.Subject.CommonName != want.cn || !slices.Equal(cert.Subject.Organization, []string{"system:nodes"}) {
			t.Errorf("%s: subject %v", name, cert.Subject)
		}
	}
	if got := reviews.subresources(); !slices.Contains(got, "system:node:worker/selfnodeclient") || !slices.Contains(got, "token-user/nodeclient") {
		t.Errorf("reviews %q, want system:node:worker/selfnodeclient and token-user/nodeclient", got)
	}
	// Not allowed nodeclient: reviewed, and left pending.
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return slices.Contains(reviews.subresources(), "stranger/nodeclient"), nil
	}); err != nil {
		t.Fatalf("stranger's CSR was not reviewed: %v", err)
	}
	if csr, err := admin.CertificatesV1().CertificateSigningRequests().Get(ctx, "node-csr-stranger", metav1.GetOptions{}); err != nil ||
		len(csr.Status.Conditions) != 0 || len(csr.Status.Certificate) != 0 {
		t.Errorf("stranger's CSR: %v, conditions %+v", err, csr.Status.Conditions)
	}

	// Serving certificates are left to humans, as upstream.
	for _, name := range []string{"serving", "bad-usage"} {
		csr, err := admin.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(csr.Status.Conditions) != 0 {
			t.Fatalf("%s: conditions %+v before anyone approved it", name, csr.Status.Conditions)
		}
		csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Test", Message: "approved by the test"})
		if _, err := admin.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, name, csr, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	csr := waitFor(ctx, t, admin, "serving", func(c *certificatesv1.CertificateSigningRequest) bool { return len(c.Status.Certificate) > 0 })
	cert := verify(t, inst.CA, csr, x509.ExtKeyUsageServerAuth)
	if len(cert.IPAddresses) != 2 || !cert.IPAddresses[0].Equal(ips[0]) || !cert.IPAddresses[1].Equal(ips[1]) || !slices.Equal(cert.DNSNames, []string{"worker"}) {
		t.Errorf("serving SANs %v %v, want %v [worker]", cert.IPAddresses, cert.DNSNames, ips)
	}
	if life := cert.NotAfter.Sub(cert.NotBefore); life != 15*time.Minute {
		t.Errorf("serving certificate lives %s, want 10m (expirationSeconds) + 5m backdating", life)
	}
	bad := waitFor(ctx, t, admin, "bad-usage", func(c *certificatesv1.CertificateSigningRequest) bool {
		return condition(c, certificatesv1.CertificateFailed) != nil
	})
	if c := condition(bad, certificatesv1.CertificateFailed); c.Reason != "SignerValidationFailure" ||
		c.Message != "usages did not match [digital signature key encipherment server auth]" || len(bad.Status.Certificate) != 0 {
		t.Errorf("bad usage: Failed %+v, certificate %d bytes", c, len(bad.Status.Certificate))
	}
}

// clientAs returns a clientset authenticating with a client certificate
// of the instance's CA for user in groups.
func clientAs(t *testing.T, inst *apiservertest.Instance, user string, groups ...string) kubernetes.Interface {
	t.Helper()
	kp, err := inst.CA.Issue(pki.ClientSpec(user, groups...))
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(inst.Config)
	cfg.CertData, cfg.KeyData = kp.CertPEM, kp.KeyPEM
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func create(ctx context.Context, t *testing.T, client kubernetes.Interface, name, signerName string, tmpl x509.CertificateRequest, usages []certificatesv1.KeyUsage, seconds *int32) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: signerName, Usages: usages, ExpirationSeconds: seconds,
			Request: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})}}
	if _, err := client.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func waitFor(ctx context.Context, t *testing.T, client kubernetes.Interface, name string, done func(*certificatesv1.CertificateSigningRequest) bool) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	var last *certificatesv1.CertificateSigningRequest
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		csr, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = csr
		return done(csr), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v; last %+v", name, err, last.Status)
	}
	return last
}

func condition(csr *certificatesv1.CertificateSigningRequest, typ certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequestCondition {
	for i := range csr.Status.Conditions {
		if csr.Status.Conditions[i].Type == typ {
			return &csr.Status.Conditions[i]
		}
	}
	return nil
}

func verify(t *testing.T, ca *pki.CA, csr *certificatesv1.CertificateSigningRequest, usage x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	cert, err := pki.ParseCertPEM(csr.Status.Certificate)
	if err != nil {
		t.Fatalf("%s: %v", csr.Name, err)
	}
	if err := ca.Verify(cert, usage); err != nil {
		t.Fatalf("%s: %v", csr.Name, err)
	}
	return cert
}
