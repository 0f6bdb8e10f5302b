package signer

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"slices"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// Upstream's signing policy constants (authority.PermissiveSigningPolicy as
// the signer configures it).
const (
	// Backdate is taken off NotBefore (and off the NotAfter of long-lived
	// certificates) to tolerate clock skew.
	Backdate = 5 * time.Minute
	// Short is the lifetime under which NotAfter is not backdated.
	Short = 8 * time.Hour
	// MinDuration is the shortest lifetime spec.expirationSeconds gets
	// (twice Backdate).
	MinDuration = 10 * time.Minute
)

// Duration returns the lifetime of a certificate for a request with
// spec.expirationSeconds (nil: not set) under a maximum of max
// (--cluster-signing-duration): the requested duration, raised to
// MinDuration and capped at max.
func Duration(expirationSeconds *int32, max time.Duration) time.Duration {
	if expirationSeconds == nil {
		return max
	}
	switch d := time.Duration(*expirationSeconds) * time.Second; {
	case d > max:
		return max
	case d < MinDuration:
		return MinDuration
	default:
		return d
	}
}

// Sign issues a certificate for req (whose signature it checks) signed by
// ca, as upstream's permissive signing policy does: the request's subject
// and DNS, IP, email and URI SANs; the key usages and extended key usages
// of usages; none of the request's other extensions; not a CA; NotBefore
// now-Backdate; NotAfter now+ttl (minus Backdate when ttl >= Short),
// never past the CA's own NotAfter. It refuses to sign with an expired
// CA. It returns the certificate PEM encoded.
func Sign(ca *CA, req *x509.CertificateRequest, usages []certificatesv1.KeyUsage, ttl time.Duration, now time.Time) ([]byte, error) {
	if err := req.CheckSignature(); err != nil {
		return nil, fmt.Errorf("unable to verify certificate request signature: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("unable to generate a serial number for %s: %w", req.Subject.CommonName, err)
	}
	keyUsage, extKeyUsages, err := keyUsages(usages)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               req.Subject,
		DNSNames:              req.DNSNames,
		IPAddresses:           req.IPAddresses,
		EmailAddresses:        req.EmailAddresses,
		URIs:                  req.URIs,
		KeyUsage:              keyUsage,
		ExtKeyUsage:           extKeyUsages,
		BasicConstraintsValid: true,
		NotBefore:             now.Add(-Backdate),
	}
	if ttl < Short {
		tmpl.NotAfter = now.Add(ttl)
	} else {
		tmpl.NotAfter = now.Add(ttl - Backdate)
	}
	caNotAfter := ca.Cert.NotAfter
	if !tmpl.NotAfter.Before(caNotAfter) {
		tmpl.NotAfter = caNotAfter
	}
	if !tmpl.NotBefore.Before(caNotAfter) {
		return nil, fmt.Errorf("the signer has expired: NotAfter=%v", caNotAfter)
	}
	if !now.Before(caNotAfter) {
		return nil, fmt.Errorf("refusing to sign a certificate that expired in the past: NotAfter=%v", caNotAfter)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, req.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("failed to sign certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// keyUsageOf and extKeyUsageOf map the API's usages to X.509's.
var (
	keyUsageOf = map[certificatesv1.KeyUsage]x509.KeyUsage{
		certificatesv1.UsageSigning:           x509.KeyUsageDigitalSignature,
		certificatesv1.UsageDigitalSignature:  x509.KeyUsageDigitalSignature,
		certificatesv1.UsageContentCommitment: x509.KeyUsageContentCommitment,
		certificatesv1.UsageKeyEncipherment:   x509.KeyUsageKeyEncipherment,
		certificatesv1.UsageKeyAgreement:      x509.KeyUsageKeyAgreement,
		certificatesv1.UsageDataEncipherment:  x509.KeyUsageDataEncipherment,
		certificatesv1.UsageCertSign:          x509.KeyUsageCertSign,
		certificatesv1.UsageCRLSign:           x509.KeyUsageCRLSign,
		certificatesv1.UsageEncipherOnly:      x509.KeyUsageEncipherOnly,
		certificatesv1.UsageDecipherOnly:      x509.KeyUsageDecipherOnly,
	}
	extKeyUsageOf = map[certificatesv1.KeyUsage]x509.ExtKeyUsage{
		certificatesv1.UsageAny:             x509.ExtKeyUsageAny,
		certificatesv1.UsageServerAuth:      x509.ExtKeyUsageServerAuth,
		certificatesv1.UsageClientAuth:      x509.ExtKeyUsageClientAuth,
		certificatesv1.UsageCodeSigning:     x509.ExtKeyUsageCodeSigning,
		certificatesv1.UsageEmailProtection: x509.ExtKeyUsageEmailProtection,
		certificatesv1.UsageSMIME:           x509.ExtKeyUsageEmailProtection,
		certificatesv1.UsageIPsecEndSystem:  x509.ExtKeyUsageIPSECEndSystem,
		certificatesv1.UsageIPsecTunnel:     x509.ExtKeyUsageIPSECTunnel,
		certificatesv1.UsageIPsecUser:       x509.ExtKeyUsageIPSECUser,
		certificatesv1.UsageTimestamping:    x509.ExtKeyUsageTimeStamping,
		certificatesv1.UsageOCSPSigning:     x509.ExtKeyUsageOCSPSigning,
		certificatesv1.UsageMicrosoftSGC:    x509.ExtKeyUsageMicrosoftServerGatedCrypto,
		certificatesv1.UsageNetscapeSGC:     x509.ExtKeyUsageNetscapeServerGatedCrypto,
	}
)

// keyUsages returns the key usage bits and the sorted, distinct extended
// key usages of usages; an unknown usage is an error with upstream's
// message.
func keyUsages(usages []certificatesv1.KeyUsage) (x509.KeyUsage, []x509.ExtKeyUsage, error) {
	var (
		bits         x509.KeyUsage
		ext          []x509.ExtKeyUsage
		unrecognized []certificatesv1.KeyUsage
	)
	for _, u := range usages {
		if b, ok := keyUsageOf[u]; ok {
			bits |= b
		} else if e, ok := extKeyUsageOf[u]; ok {
			if !slices.Contains(ext, e) {
				ext = append(ext, e)
			}
		} else {
			unrecognized = append(unrecognized, u)
		}
	}
	if len(unrecognized) > 0 {
		return 0, nil, fmt.Errorf("unrecognized usage values: %q", unrecognized)
	}
	slices.Sort(ext)
	return bits, ext, nil
}
