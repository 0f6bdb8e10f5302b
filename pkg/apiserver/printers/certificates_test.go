package printers

import (
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPrintCertificateSigningRequest(t *testing.T) {
	csr := func(conds []certificatesv1.RequestConditionType, cert []byte, spec certificatesv1.CertificateSigningRequestSpec) *certificatesv1.CertificateSigningRequest {
		c := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "csr-x2k9f", CreationTimestamp: ago(2 * time.Minute)},
			Spec: spec, Status: certificatesv1.CertificateSigningRequestStatus{Certificate: cert}}
		for _, typ := range conds {
			c.Status.Conditions = append(c.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: typ, Status: corev1.ConditionTrue})
		}
		return c
	}
	kubelet := certificatesv1.CertificateSigningRequestSpec{SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName,
		Username: "system:node:kinc-worker", ExpirationSeconds: ptr.To[int32](86400)}
	tests := []struct {
		name string
		csr  *certificatesv1.CertificateSigningRequest
		want []interface{}
	}{
		{"pending", csr(nil, nil, kubelet),
			[]interface{}{"csr-x2k9f", "2m", "kubernetes.io/kube-apiserver-client-kubelet", "system:node:kinc-worker", "24h", "Pending"}},
		{"approved and issued", csr([]certificatesv1.RequestConditionType{certificatesv1.CertificateApproved}, []byte("x"), kubelet),
			[]interface{}{"csr-x2k9f", "2m", "kubernetes.io/kube-apiserver-client-kubelet", "system:node:kinc-worker", "24h", "Approved,Issued"}},
		{"approved and failed", csr([]certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateFailed}, nil,
			certificatesv1.CertificateSigningRequestSpec{Username: "alice"}),
			[]interface{}{"csr-x2k9f", "2m", "<none>", "alice", "<none>", "Approved,Failed"}},
		{"denied wins", csr([]certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied}, nil, kubelet),
			[]interface{}{"csr-x2k9f", "2m", "kubernetes.io/kube-apiserver-client-kubelet", "system:node:kinc-worker", "24h", "Denied"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkCells(t, tc.csr, tc.want) })
	}
}
