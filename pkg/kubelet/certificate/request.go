package certificate

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Subject is a node's client certificate subject: CN system:node:<name>,
// O system:nodes.
func Subject(nodeName string) pkix.Name {
	return pkix.Name{CommonName: "system:node:" + nodeName, Organization: []string{"system:nodes"}}
}

// usagesFor are upstream's kubelet client usages for key: digital
// signature and client auth, plus key encipherment for RSA.
func usagesFor(key crypto.Signer) []certificatesv1.KeyUsage {
	if _, ok := key.Public().(*rsa.PublicKey); ok {
		return []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth}
	}
	return []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
}

// newKey returns a new ECDSA P-256 key and its PEM.
func newKey() (crypto.Signer, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// parseKey reads an "EC PRIVATE KEY" PEM.
func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "EC PRIVATE KEY" {
		return nil, errors.New("not an EC PRIVATE KEY")
	}
	return x509.ParseECPrivateKey(block.Bytes)
}

// digestedName is upstream's bootstrap CSR name, node-csr-<digest of the
// public key, subject and usages>, so that a restarted kubelet finds its
// pending request again.
func digestedName(pub crypto.PublicKey, subject pkix.Name, usages []certificatesv1.KeyUsage) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	h := sha512.New512_256()
	enc := base64.RawURLEncoding
	write := func(s string) {
		h.Write([]byte(enc.EncodeToString([]byte(s))))
		h.Write([]byte{'|'})
	}
	write(string(der))
	write(subject.CommonName)
	for _, o := range subject.Organization {
		write(o)
	}
	for _, u := range usages {
		write(string(u))
	}
	return "node-csr-" + enc.EncodeToString(h.Sum(nil)), nil
}

// requester asks the apiserver for a kubelet client certificate.
type requester struct {
	client kubernetes.Interface
	clock  clock.Clock
}

// request creates a CSR for key (named name, or generated from "csr-"
// when name is empty) and waits up to timeout for its certificate. An
// existing request of that name is reused when it asks for the same thing.
func (r requester) request(ctx context.Context, key crypto.Signer, nodeName, name string, timeout time.Duration) ([]byte, error) {
	subject := Subject(nodeName)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, key)
	if err != nil {
		return nil, fmt.Errorf("unable to generate certificate request: %w", err)
	}
	reqPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	csr := &certificatesv1.CertificateSigningRequest{
		Spec: certificatesv1.CertificateSigningRequestSpec{Request: reqPEM, Usages: usagesFor(key),
			SignerName: certificatesv1.KubeAPIServerClientKubeletSignerName},
	}
	if name != "" {
		csr.Name = name
	} else {
		csr.GenerateName = "csr-"
	}
	csrs := r.client.CertificatesV1().CertificateSigningRequests()
	created, err := csrs.Create(ctx, csr, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) && name != "" {
		if created, err = csrs.Get(ctx, name, metav1.GetOptions{}); err == nil {
			err = compatible(created, csr, key)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot create certificate signing request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cert, err := r.wait(ctx, created.Name, created.UID)
	if err != nil {
		return nil, fmt.Errorf("certificate signing request %s: %w", created.Name, err)
	}
	return cert, nil
}

// compatible checks that an existing request asks for what want asks for,
// with the same key.
func compatible(have, want *certificatesv1.CertificateSigningRequest, key crypto.Signer) error {
	req, err := parseRequest(have.Spec.Request)
	if err != nil {
		return err
	}
	wantReq, err := parseRequest(want.Spec.Request)
	if err != nil {
		return err
	}
	if req.Subject.CommonName != wantReq.Subject.CommonName || !slices.Equal(req.Subject.Organization, wantReq.Subject.Organization) {
		return fmt.Errorf("existing request %s has subject %v, not %v", have.Name, req.Subject, wantReq.Subject)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(req.PublicKey) {
		return fmt.Errorf("existing request %s is for another key", have.Name)
	}
	if have.Spec.SignerName != want.Spec.SignerName || !slices.Equal(have.Spec.Usages, want.Spec.Usages) {
		return fmt.Errorf("existing request %s has signer %s and usages %v", have.Name, have.Spec.SignerName, have.Spec.Usages)
	}
	return nil
}

// parseRequest parses a PEM certificate request.
func parseRequest(data []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}

// errRetry means the request is still pending.
var errPending = errors.New("pending")

// issued reports a request's outcome: its certificate, an error when it
// was denied, failed or replaced, or errPending.
func issued(csr *certificatesv1.CertificateSigningRequest, uid types.UID) ([]byte, error) {
	if csr.UID != uid {
		return nil, errors.New("the request was deleted and created again")
	}
	approved := false
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateDenied:
			return nil, fmt.Errorf("is denied, reason: %s, message: %s", c.Reason, c.Message)
		case certificatesv1.CertificateFailed:
			return nil, fmt.Errorf("failed, reason: %s, message: %s", c.Reason, c.Message)
		case certificatesv1.CertificateApproved:
			approved = true
		}
	}
	if approved && len(csr.Status.Certificate) > 0 {
		return csr.Status.Certificate, nil
	}
	return nil, errPending
}

// wait lists then watches the request by name until it has an outcome or
// ctx ends; a failed list or a closed watch starts over after a second.
func (r requester) wait(ctx context.Context, name string, uid types.UID) ([]byte, error) {
	csrs := r.client.CertificatesV1().CertificateSigningRequests()
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	for {
		list, err := csrs.List(ctx, metav1.ListOptions{FieldSelector: selector})
		if err == nil {
			rv := list.ResourceVersion
			found := false
			for i := range list.Items {
				if list.Items[i].Name != name {
					continue
				}
				found = true
				if cert, err := issued(&list.Items[i], uid); !errors.Is(err, errPending) {
					return cert, err
				}
			}
			if !found {
				return nil, errors.New("the request was deleted")
			}
			if cert, err, done := r.watch(ctx, name, uid, selector, rv); done {
				return cert, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("timed out waiting for the certificate: %w", ctx.Err())
		case <-r.clock.After(time.Second):
		}
	}
}

// watch follows the request from rv; done is false when the watch ended
// without an outcome.
func (r requester) watch(ctx context.Context, name string, uid types.UID, selector, rv string) ([]byte, error, bool) {
	w, err := r.client.CertificatesV1().CertificateSigningRequests().Watch(ctx,
		metav1.ListOptions{FieldSelector: selector, ResourceVersion: rv, AllowWatchBookmarks: true})
	if err != nil {
		return nil, nil, false
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("timed out waiting for the certificate: %w", ctx.Err()), true
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil, nil, false
			}
			csr, isCSR := ev.Object.(*certificatesv1.CertificateSigningRequest)
			if !isCSR || csr.Name != name {
				continue
			}
			if ev.Type == "DELETED" {
				return nil, errors.New("the request was deleted"), true
			}
			if cert, err := issued(csr, uid); !errors.Is(err, errPending) {
				return cert, err, true
			}
		}
	}
}

// loadOrCreatePendingKey returns the key kept at path from an earlier
// attempt, or a new one written there.
func loadOrCreatePendingKey(path string) (crypto.Signer, []byte, error) {
	if data, err := os.ReadFile(path); err == nil {
		if key, err := parseKey(data); err == nil {
			return key, data, nil
		}
	}
	key, keyPEM, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(path, keyPEM, 0o600); err != nil {
		return nil, nil, fmt.Errorf("write pending key: %w", err)
	}
	return key, keyPEM, nil
}
