package approver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

const (
	ds = certificatesv1.UsageDigitalSignature
	ke = certificatesv1.UsageKeyEncipherment
	ca = certificatesv1.UsageClientAuth
	sa = certificatesv1.UsageServerAuth
)

func requestPEM(t *testing.T, tmpl x509.CertificateRequest) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// csr is a request by user for a certificate named cn in system:nodes.
func csr(t *testing.T, name, user, cn, signerName string, tmpl x509.CertificateRequest, usages ...certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
	tmpl.Subject = pkix.Name{CommonName: cn, Organization: []string{"system:nodes"}}
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{Request: requestPEM(t, tmpl), SignerName: signerName, Usages: usages,
			Username: user, UID: "uid-" + user, Groups: []string{"system:authenticated"},
			Extra: map[string]certificatesv1.ExtraValue{"k": {"v"}}},
	}
}

// reviewer answers SubjectAccessReviews: allowed for the subresources in
// allow; it records the reviews asked.
type reviewer struct {
	allow   map[string]bool
	err     error
	reviews []authorizationv1.SubjectAccessReviewSpec
}

func (r *reviewer) react(a k8stesting.Action) (bool, runtime.Object, error) {
	if r.err != nil {
		return true, nil, r.err
	}
	sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
	r.reviews = append(r.reviews, sar.Spec)
	sar.Status.Allowed = r.allow[sar.Spec.ResourceAttributes.Subresource]
	return true, sar, nil
}

func setup(t *testing.T, r *reviewer, objects ...runtime.Object) (*controllertest.Fixture, *Approver) {
	t.Helper()
	f := controllertest.New(t, objects...)
	f.Client.PrependReactor("create", "subjectaccessreviews", r.react)
	return f, New(f.Client, f.Informers.Certificates().V1().CertificateSigningRequests(), Options{Logger: f.Logger, Clock: f.Clock})
}

const sarVerb, sarResource = "create", "subjectaccessreviews"

func approvalAction(name string) controllertest.Action {
	return controllertest.Action{Verb: "update", Resource: "certificatesigningrequests", Subresource: "approval", Name: name}
}

func TestApprovesSelfNodeClient(t *testing.T) {
	r := &reviewer{allow: map[string]bool{"selfnodeclient": true}}
	f, a := setup(t, r, csr(t, "renew", "system:node:worker", "system:node:worker", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{}, ds, ke, ca))
	f.MustSync(a.sync, "renew")
	f.ExpectActions(controllertest.Action{Verb: sarVerb, Resource: sarResource}, approvalAction("renew"))
	want := authorizationv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "certificatesigningrequests", Verb: "create", Subresource: "selfnodeclient", Version: "*"}
	if got := r.reviews[0]; got.User != "system:node:worker" || got.UID != "uid-system:node:worker" || len(got.Groups) != 1 ||
		got.Extra["k"][0] != "v" || *got.ResourceAttributes != want {
		t.Errorf("review %+v (%+v)", got, got.ResourceAttributes)
	}
	approved := controllertest.Find[*certificatesv1.CertificateSigningRequest](f, approvalAction("renew"))
	wantCond := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue,
		Reason: "AutoApproved", Message: "Auto approving self kubelet client certificate after SubjectAccessReview."}
	if len(approved.Status.Conditions) != 1 || approved.Status.Conditions[0] != wantCond {
		t.Errorf("conditions %+v", approved.Status.Conditions)
	}
}

func TestApprovesBootstrapNodeClient(t *testing.T) {
	r := &reviewer{allow: map[string]bool{"nodeclient": true}}
	f, a := setup(t, r, csr(t, "node-csr-x", "system:bootstrap:abcdef", "system:node:worker", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{}, ds, ca))
	f.MustSync(a.sync, "node-csr-x")
	f.ExpectActions(controllertest.Action{Verb: sarVerb, Resource: sarResource}, approvalAction("node-csr-x"))
	if r.reviews[0].ResourceAttributes.Subresource != "nodeclient" {
		t.Errorf("reviewed %q", r.reviews[0].ResourceAttributes.Subresource)
	}
	approved := controllertest.Find[*certificatesv1.CertificateSigningRequest](f, approvalAction("node-csr-x"))
	if c := approved.Status.Conditions; len(c) != 1 || c[0].Message != "Auto approving kubelet client certificate after SubjectAccessReview." {
		t.Errorf("conditions %+v", c)
	}
}

// A node asking for itself whose selfnodeclient review is refused falls
// back to the nodeclient review, as upstream.
func TestSelfFallsBackToNodeClient(t *testing.T) {
	r := &reviewer{allow: map[string]bool{"nodeclient": true}}
	f, a := setup(t, r, csr(t, "renew", "system:node:worker", "system:node:worker", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{}, ds, ca))
	f.MustSync(a.sync, "renew")
	f.ExpectActions(controllertest.Action{Verb: sarVerb, Resource: sarResource}, controllertest.Action{Verb: sarVerb, Resource: sarResource}, approvalAction("renew"))
}

func TestNotAllowedIsRetried(t *testing.T) {
	r := &reviewer{}
	f, a := setup(t, r, csr(t, "renew", "system:node:worker", "system:node:worker", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{}, ds, ca))
	err := f.Sync(a.sync, "renew")
	if err == nil || !strings.Contains(err.Error(), `recognized csr "renew" as [selfnodeclient nodeclient] but subject access review was not approved`) {
		t.Fatalf("sync: %v", err)
	}
	f.ExpectActions(controllertest.Action{Verb: sarVerb, Resource: sarResource}, controllertest.Action{Verb: sarVerb, Resource: sarResource})

	f2, a2 := setup(t, &reviewer{err: errors.New("the server could not find the requested resource")},
		csr(t, "renew", "system:node:worker", "system:node:worker", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{}, ds, ca))
	if err := f2.Sync(a2.sync, "renew"); err == nil {
		t.Fatal("a failed review approved nothing but returned no error to retry")
	}
	f2.ExpectActions(controllertest.Action{Verb: sarVerb, Resource: sarResource})
}

func TestLeavesOtherRequestsToHumans(t *testing.T) {
	r := &reviewer{allow: map[string]bool{"selfnodeclient": true, "nodeclient": true}}
	decided := func(name string, t certificatesv1.RequestConditionType) runtime.Object {
		c := csrOf(name)
		c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: t, Status: corev1.ConditionTrue}}
		return c
	}
	objs := []runtime.Object{
		csr(t, "serving", "system:node:worker", "system:node:worker", certificatesv1.KubeletServingSignerName,
			x509.CertificateRequest{IPAddresses: []net.IP{net.ParseIP("10.0.0.2")}}, ds, sa),
		csr(t, "client-with-ip", "system:node:worker", "system:node:worker", certificatesv1.KubeAPIServerClientKubeletSignerName,
			x509.CertificateRequest{IPAddresses: []net.IP{net.ParseIP("10.0.0.2")}}, ds, ca),
		csr(t, "apiserver-client", "system:node:worker", "system:node:worker", certificatesv1.KubeAPIServerClientSignerName, x509.CertificateRequest{}, ds, ca),
		decided("approved", certificatesv1.CertificateApproved),
		decided("denied", certificatesv1.CertificateDenied),
	}
	f, a := setup(t, r, objs...)
	for _, key := range []string{"serving", "client-with-ip", "apiserver-client", "approved", "denied", "gone"} {
		f.MustSync(a.sync, key)
	}
	f.ExpectActions()
}

// csrOf is a request without a parsable body: the approver must not get
// as far as parsing it.
func csrOf(name string) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName}}
}
