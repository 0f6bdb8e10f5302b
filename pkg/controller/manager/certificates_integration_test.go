package manager_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/controller/certificates/approver"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// TestIntegrationCSRSigningThroughManager: with kubeadm's flags (the
// cluster CA as --cluster-signing-cert-file/--cluster-signing-key-file),
// an approved kube-apiserver-client CSR is signed by the cluster CA; the
// three CSR controllers run with upstream's worker counts; a kubelet
// client CSR is auto-approved (the approver's SubjectAccessReview is
// allowed) and signed.
func TestIntegrationCSRSigningThroughManager(t *testing.T) {
	inst, client := setup(t)
	keyFile := filepath.Join(t.TempDir(), "ca.key")
	if err := os.WriteFile(keyFile, inst.CA.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	m := start(t, inst, "solo", freePort(t), "--cluster-signing-cert-file="+filepath.Join(inst.Dir, "ca.crt"),
		"--cluster-signing-key-file="+keyFile, "--cluster-signing-duration=2h")
	ctx := context.Background()
	csrs := client.CertificatesV1().CertificateSigningRequests()
	for name, cn := range map[string]string{"jane": "jane", "kubelet": "system:node:worker"} {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: []string{"system:nodes"}}}, key)
		if err != nil {
			t.Fatal(err)
		}
		signerName := certificatesv1.KubeAPIServerClientSignerName
		if name == "kubelet" {
			signerName = certificatesv1.KubeAPIServerClientKubeletSignerName
		}
		csr := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: signerName,
				Usages:  []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
				Request: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})}}
		if _, err := csrs.Create(ctx, csr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	jane, err := csrs.Get(ctx, "jane", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jane.Status.Conditions = append(jane.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Test"})
	if _, err := csrs.UpdateApproval(ctx, "jane", jane, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 30*time.Second, "jane's certificate", func(ctx context.Context) bool {
		jane, err = csrs.Get(ctx, "jane", metav1.GetOptions{})
		return err == nil && len(jane.Status.Certificate) > 0
	})
	cert, err := pki.ParseCertPEM(jane.Status.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.CA.Verify(cert, x509.ExtKeyUsageClientAuth); err != nil || cert.Subject.CommonName != "jane" {
		t.Errorf("jane's certificate: %v, subject %v", err, cert.Subject)
	}
	if life := cert.NotAfter.Sub(cert.NotBefore); life != 2*time.Hour+5*time.Minute {
		t.Errorf("jane's certificate lives %s, want --cluster-signing-duration 2h from 5m ago", life)
	}
	// The apiserver answers the approver's SubjectAccessReview (allowed:
	// --authorization-mode is AlwaysAllow here): the kubelet CSR is
	// auto-approved, then signed.
	poll(t, 30*time.Second, "the kubelet CSR approved and signed", func(ctx context.Context) bool {
		kubelet, err := csrs.Get(ctx, "kubelet", metav1.GetOptions{})
		return err == nil && len(kubelet.Status.Conditions) == 1 && kubelet.Status.Conditions[0].Type == certificatesv1.CertificateApproved &&
			kubelet.Status.Conditions[0].Reason == approver.ReasonAutoApproved && len(kubelet.Status.Certificate) > 0
	})
	log := m.log.String()
	for _, want := range []string{"controller=csrsigning workers=5", "controller=csrapproving workers=5", "controller=csrcleaner workers=1"} {
		if !strings.Contains(log, want) {
			t.Errorf("the manager's log lacks %q", want)
		}
	}
}
