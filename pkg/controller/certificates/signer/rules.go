package signer

import (
	"crypto/x509"
	"fmt"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"

	"github.com/kinc-dev/kinc/pkg/controller/certificates"
)

// rule checks a request and its usages against a signer's rules; the
// error is the Failed condition's message.
type rule func(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error

// rules returns the rule of a built-in signer, nil for any other name.
func rules(signerName string) rule {
	switch signerName {
	case certificatesv1.KubeletServingSignerName:
		return certificates.ValidateKubeletServing
	case certificatesv1.KubeAPIServerClientKubeletSignerName:
		return certificates.ValidateKubeletClient
	case certificatesv1.KubeAPIServerClientSignerName:
		return func(_ *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
			return validAPIServerClientUsages(usages)
		}
	case certificatesv1beta1.LegacyUnknownSignerName:
		// No restriction, for backward compatibility, as upstream.
		return func(*x509.CertificateRequest, []certificatesv1.KeyUsage) error { return nil }
	default:
		return nil
	}
}

// validAPIServerClientUsages requires client auth and allows digital
// signature and key encipherment besides, with upstream's messages.
func validAPIServerClientUsages(usages []certificatesv1.KeyUsage) error {
	hasClientAuth := false
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment:
		case certificatesv1.UsageClientAuth:
			hasClientAuth = true
		default:
			return fmt.Errorf("invalid usage for client certificate: %s", u)
		}
	}
	if !hasClientAuth {
		return fmt.Errorf("missing required usage for client certificate: %s", certificatesv1.UsageClientAuth)
	}
	return nil
}
