package certificatesigningrequest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"slices"
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// TestIntegrationCertificateSigningRequests runs a kubelet's CSR through
// client-go against the real apiserver on etcd: the requesting user (a
// token user) is recorded in spec whatever the client sent; the request is
// listed by spec.signerName; an update keeps the spec; /status cannot
// approve; UpdateApproval approves; /status then issues the certificate;
// a request that is not a PEM CERTIFICATE REQUEST is a 422 with upstream's
// message.
func TestIntegrationCertificateSigningRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	admin := inst.Client(t).CertificatesV1().CertificateSigningRequests()
	tokenCfg := rest.AnonymousClientConfig(inst.Config)
	tokenCfg.BearerToken = apiservertest.Token
	tokenClient, err := kubernetes.NewForConfig(tokenCfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	csr := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "node-csr-kinc-worker"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    requestPEM(t),
			SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName,
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
			Username:   "system:admin", Groups: []string{"system:masters"}, // ignored
		},
	}
	created, err := tokenClient.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Spec.Username != "token-user" || created.Spec.UID != "token-uid" || !slices.Contains(created.Spec.Groups, "token-group") ||
		slices.Contains(created.Spec.Groups, "system:masters") {
		t.Errorf("requesting user not recorded: %+v", created.Spec)
	}
	if _, err := admin.Get(ctx, csr.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("get: %v", err)
	}
	list, err := admin.List(ctx, metav1.ListOptions{FieldSelector: "spec.signerName=" + certificatesv1.KubeAPIServerClientKubeletSignerName})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list by signer: %v, %d items", err, len(list.Items))
	}

	created.Labels = map[string]string{"node": "kinc-worker"}
	created.Spec.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageServerAuth}
	updated, err := admin.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Labels["node"] != "kinc-worker" || len(updated.Spec.Usages) != 2 {
		t.Errorf("after update: labels %v, usages %v", updated.Labels, updated.Spec.Usages)
	}

	approved := updated.DeepCopy()
	approved.Status.Conditions = append(approved.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved", Message: "kinc test"})
	_, err = admin.UpdateStatus(ctx, approved, metav1.UpdateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), `status.conditions: Forbidden: updates may not add a condition of type "Approved"`) {
		t.Errorf("approval through /status: %v", err)
	}
	out, err := admin.UpdateApproval(ctx, approved.Name, approved, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("UpdateApproval: %v", err)
	}
	if len(out.Status.Conditions) != 1 || out.Status.Conditions[0].Type != certificatesv1.CertificateApproved || out.Status.Conditions[0].LastUpdateTime.IsZero() {
		t.Fatalf("after approval: %+v", out.Status)
	}

	ca, err := pki.NewCA("kinc-test-signer", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out.Status.Certificate = ca.CertPEM
	issued, err := admin.UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("issue through /status: %v", err)
	}
	if len(issued.Status.Certificate) == 0 || issued.Status.Conditions[0].Type != certificatesv1.CertificateApproved {
		t.Errorf("after issue: %+v", issued.Status)
	}

	bad := csr.DeepCopy()
	bad.Name = "bad"
	bad.Spec.Request = ca.CertPEM
	_, err = admin.Create(ctx, bad, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.request: Invalid value: ") ||
		!strings.Contains(err.Error(), "PEM block type must be CERTIFICATE REQUEST") {
		t.Errorf("bad request: %v", err)
	}
}

func requestPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "system:node:kinc-worker", Organization: []string{"system:nodes"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}
