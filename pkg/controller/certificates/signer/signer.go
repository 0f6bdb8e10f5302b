// Package signer is kinc's certificatesigningrequest-signing-controller
// (--controllers alias "csrsigning"), upstream's CSRSigningController: it
// issues the certificate of every approved CertificateSigningRequest
// addressed to one of the four built-in signers it has a CA for —
// kubernetes.io/kube-apiserver-client, kubernetes.io/kube-apiserver-client-kubelet,
// kubernetes.io/kubelet-serving and kubernetes.io/legacy-unknown — after
// checking the request against that signer's rules, as upstream:
//
//   - kube-apiserver-client: usages client auth (required), digital
//     signature and key encipherment only;
//   - kube-apiserver-client-kubelet: O=system:nodes, CN=system:node:…, no
//     SAN, usages {digital signature, client auth} (+ key encipherment);
//   - kubelet-serving: O=system:nodes, CN=system:node:…, DNS or IP SANs
//     only, usages {digital signature, server auth} (+ key encipherment);
//   - legacy-unknown: anything.
//
// A request breaking its signer's rules gets a Failed condition (reason
// SignerValidationFailure, the rule as message) and no certificate. A
// request not approved, denied, already failed or issued, or for another
// signer, is left alone. The certificate lives for
// --cluster-signing-duration, or spec.expirationSeconds when shorter (10
// minutes at least), never past the CA's own expiry. Where upstream runs
// one controller of 5 workers per signer, kinc runs one loop whose workers
// serve every configured signer. It records no events, as upstream.
package signer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/certificates"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is
// "certificatesigningrequest-signing-controller").
const Name = "csrsigning"

// DefaultDuration is --cluster-signing-duration's default: a year.
const DefaultDuration = 8760 * time.Hour

// ReasonSignerValidationFailure is the reason of the Failed condition of a
// request that breaks its signer's rules.
const ReasonSignerValidationFailure = "SignerValidationFailure"

// Signers returns the built-in signer names the controller can sign for.
func Signers() []string {
	return []string{
		certificatesv1.KubeAPIServerClientSignerName,
		certificatesv1.KubeAPIServerClientKubeletSignerName,
		certificatesv1.KubeletServingSignerName,
		certificatesv1beta1.LegacyUnknownSignerName,
	}
}

// Options configure a Controller.
type Options struct {
	// CAs maps the signer names (of Signers()) the controller signs for to
	// their CA; requests for other signers are ignored.
	CAs map[string]CAProvider
	// Duration is the longest lifetime given (--cluster-signing-duration);
	// zero means DefaultDuration.
	Duration time.Duration
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock dates certificates and conditions and drives retries; nil
	// means the real clock.
	Clock clock.WithTicker
}

// Controller signs approved requests. Run (from the embedded Loop) runs
// it; its queue keys are CSR names.
type Controller struct {
	*controller.Loop
	client   kubernetes.Interface
	cas      map[string]CAProvider
	duration time.Duration
	clock    clock.Clock
	sync     controller.SyncFunc
}

// New returns a signing controller reading CSRs through csrs (whose
// factory the caller starts) and writing their status through client. It
// fails when a CA is given for a signer it does not know.
func New(client kubernetes.Interface, csrs certinformers.CertificateSigningRequestInformer, opts Options) (*Controller, error) {
	for name := range opts.CAs {
		if rules(name) == nil {
			return nil, fmt.Errorf("unrecognized signerName: %q", name)
		}
	}
	if opts.Duration <= 0 {
		opts.Duration = DefaultDuration
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	c := &Controller{client: client, cas: opts.CAs, duration: opts.Duration, clock: opts.Clock}
	c.Loop, c.sync = certificates.NewLoop(Name, csrs, c.handle, certificates.LoopOptions{Logger: opts.Logger, Clock: opts.Clock})
	return c, nil
}

// handle signs csr (a copy, without a certificate) when it is approved,
// not failed and for a signer the controller has a CA for.
func (c *Controller) handle(ctx context.Context, csr *certificatesv1.CertificateSigningRequest) error {
	if !certificates.IsApproved(csr) || certificates.HasTrueCondition(csr, certificatesv1.CertificateFailed) {
		return nil
	}
	provider, ok := c.cas[csr.Spec.SignerName]
	if !ok {
		return nil
	}
	req, err := certificates.ParseRequest(csr.Spec.Request)
	if err != nil {
		return fmt.Errorf("unable to parse csr %q: %w", csr.Name, err)
	}
	if err := rules(csr.Spec.SignerName)(req, csr.Spec.Usages); err != nil {
		csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type:           certificatesv1.CertificateFailed,
			Status:         corev1.ConditionTrue,
			Reason:         ReasonSignerValidationFailure,
			Message:        err.Error(),
			LastUpdateTime: metav1.NewTime(c.clock.Now()),
		})
		if _, err := c.client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, csr, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("error adding failure condition for csr: %w", err)
		}
		return nil
	}
	ca, err := provider.CurrentCA()
	if err != nil {
		return fmt.Errorf("error auto signing csr: %w", err)
	}
	cert, err := Sign(ca, req, csr.Spec.Usages, Duration(csr.Spec.ExpirationSeconds, c.duration), c.clock.Now())
	if err != nil {
		return fmt.Errorf("error auto signing csr: %w", err)
	}
	csr.Status.Certificate = cert
	if _, err := c.client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, csr, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("error updating signature for csr: %w", err)
	}
	return nil
}
