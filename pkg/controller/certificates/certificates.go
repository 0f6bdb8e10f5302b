// Package certificates holds what kinc's CertificateSigningRequest
// controllers share, as upstream's pkg/controller/certificates and
// pkg/apis/certificates helpers do: the loop every CSR controller runs
// (NewLoop: upstream's CertificateController), reading a request's
// approval state, parsing its PEM request, and the subject and usage rules
// of kubelet client and serving certificates, with upstream's messages.
//
// The controllers themselves are in the sub-packages signer
// (certificatesigningrequest-signing-controller), approver
// (certificatesigningrequest-approving-controller) and cleaner
// (certificatesigningrequest-cleaner-controller).
package certificates

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// DefaultConcurrentSyncs is the workers upstream gives the approving
// controller and each signer (not a flag).
const DefaultConcurrentSyncs = 5

// Handler acts on a copy of a CSR that exists and has no certificate yet
// (the caller's to modify). An error retries the request with backoff.
type Handler func(ctx context.Context, csr *certificatesv1.CertificateSigningRequest) error

// LoopOptions configure NewLoop.
type LoopOptions struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries; nil means the real clock.
	Clock clock.WithTicker
}

// NewLoop returns the loop of upstream's CertificateController, and its
// sync function (for tests): every
// added, updated or deleted CSR is queued by name; a request that is gone
// or already has a certificate is done; any other is deep-copied and given
// to handle. Failures back off per request from 200 ms to 1000 s, at most
// 10 retries a second overall (burst 100), as upstream.
func NewLoop(name string, csrs certinformers.CertificateSigningRequestInformer, handle Handler, opts LoopOptions) (*controller.Loop, controller.SyncFunc) {
	lister := csrs.Lister()
	sync := func(ctx context.Context, key string) error {
		return syncRequest(ctx, lister, handle, key)
	}
	l := controller.New(controller.Config{Name: name, Sync: sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced: []cache.InformerSynced{csrs.Informer().HasSynced},
		RateLimiter: workqueue.NewTypedMaxOfRateLimiter(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](200*time.Millisecond, 1000*time.Second),
			&workqueue.TypedBucketRateLimiter[string]{Limiter: rate.NewLimiter(rate.Limit(10), 100)}),
	})
	_, _ = csrs.Informer().AddEventHandler(l.Handler(controller.HandlerOptions{}))
	return l, sync
}

// syncRequest is NewLoop's sync.
func syncRequest(ctx context.Context, lister certlisters.CertificateSigningRequestLister, handle Handler, key string) error {
	csr, err := lister.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(csr.Status.Certificate) > 0 {
		return nil
	}
	return handle(ctx, csr.DeepCopy())
}

// ApprovalState reports whether status has an Approved and whether it has
// a Denied condition (whatever their status, as upstream).
func ApprovalState(status *certificatesv1.CertificateSigningRequestStatus) (approved, denied bool) {
	for _, c := range status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		}
	}
	return approved, denied
}

// IsApproved reports whether csr is Approved and not Denied.
func IsApproved(csr *certificatesv1.CertificateSigningRequest) bool {
	approved, denied := ApprovalState(&csr.Status)
	return approved && !denied
}

// HasTrueCondition reports whether csr has a condition of type t whose
// status is True or empty.
func HasTrueCondition(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == t && (c.Status == "" || c.Status == corev1.ConditionTrue) {
			return true
		}
	}
	return false
}

// ParseRequest parses spec.request: a PEM "CERTIFICATE REQUEST" block.
func ParseRequest(pemBytes []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}

// Upstream's reasons for refusing a kubelet certificate request.
var (
	errOrganizationNotSystemNodes = errors.New("subject organization is not system:nodes")
	errCommonNameNotSystemNode    = errors.New("subject common name does not begin with system:node:")
	errDNSOrIPSANRequired         = errors.New("DNS or IP subjectAltName is required")
	errDNSSANNotAllowed           = errors.New("DNS subjectAltNames are not allowed")
	errEmailSANNotAllowed         = errors.New("Email subjectAltNames are not allowed")
	errIPSANNotAllowed            = errors.New("IP subjectAltNames are not allowed")
	errURISANNotAllowed           = errors.New("URI subjectAltNames are not allowed")
)

// NodeUserPrefix starts the user name of every node (and the common name
// of its certificates).
const NodeUserPrefix = "system:node:"

// NodesGroup is the group of every node.
const NodesGroup = "system:nodes"

// ValidateKubeletClient checks a kubelet client certificate request
// (signer kubernetes.io/kube-apiserver-client-kubelet) as upstream: O is
// exactly system:nodes, no SAN of any kind, CN starts with system:node:,
// and the usages are exactly {digital signature, client auth}, plus key
// encipherment for RSA keys.
func ValidateKubeletClient(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !slices.Equal(req.Subject.Organization, []string{NodesGroup}) {
		return errOrganizationNotSystemNodes
	}
	switch {
	case len(req.DNSNames) > 0:
		return errDNSSANNotAllowed
	case len(req.EmailAddresses) > 0:
		return errEmailSANNotAllowed
	case len(req.IPAddresses) > 0:
		return errIPSANNotAllowed
	case len(req.URIs) > 0:
		return errURISANNotAllowed
	}
	if !strings.HasPrefix(req.Subject.CommonName, NodeUserPrefix) {
		return errCommonNameNotSystemNode
	}
	if !usagesAre(usages, certificatesv1.UsageClientAuth) {
		return usagesMismatch(certificatesv1.UsageClientAuth)
	}
	return nil
}

// ValidateKubeletServing checks a kubelet serving certificate request
// (signer kubernetes.io/kubelet-serving) as upstream: O is exactly
// system:nodes, at least one DNS or IP SAN and no email or URI SAN, the
// usages exactly {digital signature, server auth}, plus key encipherment
// for RSA keys, and CN starts with system:node:.
func ValidateKubeletServing(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !slices.Equal(req.Subject.Organization, []string{NodesGroup}) {
		return errOrganizationNotSystemNodes
	}
	switch {
	case len(req.DNSNames) == 0 && len(req.IPAddresses) == 0:
		return errDNSOrIPSANRequired
	case len(req.EmailAddresses) > 0:
		return errEmailSANNotAllowed
	case len(req.URIs) > 0:
		return errURISANNotAllowed
	}
	if !usagesAre(usages, certificatesv1.UsageServerAuth) {
		return usagesMismatch(certificatesv1.UsageServerAuth)
	}
	if !strings.HasPrefix(req.Subject.CommonName, NodeUserPrefix) {
		return errCommonNameNotSystemNode
	}
	return nil
}

// usagesAre reports whether the set of usages is {digital signature,
// extended} or {digital signature, key encipherment, extended}.
func usagesAre(usages []certificatesv1.KeyUsage, extended certificatesv1.KeyUsage) bool {
	set := map[certificatesv1.KeyUsage]bool{}
	for _, u := range usages {
		set[u] = true
	}
	if !set[certificatesv1.UsageDigitalSignature] || !set[extended] {
		return false
	}
	delete(set, certificatesv1.UsageDigitalSignature)
	delete(set, extended)
	delete(set, certificatesv1.UsageKeyEncipherment)
	return len(set) == 0
}

// usagesMismatch is upstream's error, listing the RSA usages sorted.
func usagesMismatch(extended certificatesv1.KeyUsage) error {
	want := []string{string(certificatesv1.UsageDigitalSignature), string(certificatesv1.UsageKeyEncipherment), string(extended)}
	slices.Sort(want)
	return fmt.Errorf("usages did not match %v", want)
}
