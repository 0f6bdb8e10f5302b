package printers

import (
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

func certificateSigningRequestColumns() []metav1.TableColumnDefinition {
	spec := certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		ageColumn(),
		col("SignerName", "string", spec["signerName"]),
		col("Requestor", "string", spec["request"]),
		col("RequestedDuration", "string", spec["expirationSeconds"]),
		col("Condition", "string", certificatesv1beta1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"]),
	}
}

// printCertificateSigningRequest: REQUESTOR is spec.username (filled by the
// apiserver), REQUESTEDDURATION spec.expirationSeconds as a duration or
// "<none>", CONDITION as csrCondition.
func printCertificateSigningRequest(csr *certificatesv1.CertificateSigningRequest, e *env) metav1.TableRow {
	signer := "<none>"
	if csr.Spec.SignerName != "" {
		signer = csr.Spec.SignerName
	}
	requested := "<none>"
	if s := csr.Spec.ExpirationSeconds; s != nil {
		requested = duration.HumanDuration(time.Duration(*s) * time.Second)
	}
	return metav1.TableRow{Cells: []interface{}{
		csr.Name, e.since(csr.CreationTimestamp), signer, csr.Spec.Username, requested, csrCondition(csr),
	}}
}

// csrCondition is upstream's extractCSRStatus: Denied, else Approved, else
// Pending; then ",Failed" and ",Issued" when they apply.
func csrCondition(csr *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	switch {
	case denied:
		status = "Denied"
	case approved:
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(csr.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return status
}
