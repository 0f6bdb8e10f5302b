// Package cleaner is kinc's certificatesigningrequest-cleaner-controller
// (--controllers alias "csrcleaner"), upstream's CSRCleanerController:
// once an hour it looks at every CertificateSigningRequest and deletes
// those done with, as upstream:
//
//   - issued (a certificate in status) and approved more than an hour ago;
//   - denied, or failed, more than an hour ago (the condition's
//     lastUpdateTime);
//   - pending (no condition at all) and created more than 24 hours ago;
//   - approved but not issued for more than 24 hours;
//   - approved and issued with a certificate past its NotAfter.
//
// It logs each deletion with upstream's words and records no events.
package cleaner

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// Name is the controller's short name, as --controllers spells it too
// (upstream's canonical name is
// "certificatesigningrequest-cleaner-controller").
const Name = "csrcleaner"

// Upstream's periods.
const (
	// DefaultPollingInterval is how often every request is looked at.
	DefaultPollingInterval = time.Hour
	// ApprovedExpiration keeps issued requests after their approval, and
	// DeniedExpiration denied and failed ones after the condition.
	ApprovedExpiration = time.Hour
	DeniedExpiration   = time.Hour
	// PendingExpiration keeps pending requests after their creation, and
	// approved but unissued ones after their approval.
	PendingExpiration = 24 * time.Hour
)

// Options configure a Cleaner.
type Options struct {
	// PollingInterval is how often every request is looked at; zero means
	// DefaultPollingInterval.
	PollingInterval time.Duration
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock decides ages and drives the passes; nil means the real clock.
	Clock clock.WithTicker
}

// Cleaner deletes finished requests. Run (from the embedded Loop) runs
// it: a pass at start and every PollingInterval queues every request's
// name, which one worker (as upstream) syncs.
type Cleaner struct {
	*controller.Loop
	client kubernetes.Interface
	lister certlisters.CertificateSigningRequestLister
	clock  clock.Clock
	logger *slog.Logger
}

// New returns a cleaner reading CSRs through csrs (whose factory the
// caller starts) and deleting through client.
func New(client kubernetes.Interface, csrs certinformers.CertificateSigningRequestInformer, opts Options) *Cleaner {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.PollingInterval <= 0 {
		opts.PollingInterval = DefaultPollingInterval
	}
	c := &Cleaner{client: client, lister: csrs.Lister(), clock: opts.Clock}
	c.Loop = controller.New(controller.Config{Name: Name, Sync: c.sync, Logger: opts.Logger, Clock: opts.Clock,
		Synced:     []cache.InformerSynced{csrs.Informer().HasSynced},
		Background: []func(context.Context){controller.Every(opts.Clock, opts.PollingInterval, c.pass)},
	})
	c.logger = c.Logger()
	return c
}

// pass queues every request.
func (c *Cleaner) pass(context.Context) {
	csrs, err := c.lister.List(labels.Everything())
	if err != nil {
		c.logger.Error("unable to list CSRs", "err", err)
		return
	}
	for _, csr := range csrs {
		c.EnqueueKey(csr.Name)
	}
}

// sync deletes the request named key when it is done with (see the
// package comment). A request already gone is fine.
func (c *Cleaner) sync(ctx context.Context, key string) error {
	csr, err := c.lister.Get(key)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	why := c.reason(csr)
	if why == "" {
		return nil
	}
	c.logger.Info(why, "csr", csr.Name)
	err = c.client.CertificatesV1().CertificateSigningRequests().Delete(ctx, csr.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: ptr.To(types.UID(csr.UID))}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("unable to delete CSR %q: %w", csr.Name, err)
	}
	return nil
}

// reason returns upstream's log line for deleting csr, "" to keep it.
func (c *Cleaner) reason(csr *certificatesv1.CertificateSigningRequest) string {
	issued := len(csr.Status.Certificate) > 0
	for _, cond := range csr.Status.Conditions {
		if issued && cond.Type == certificatesv1.CertificateApproved && c.olderThan(cond.LastUpdateTime, ApprovedExpiration) {
			return "Cleaning CSR as it is more than approvedExpiration duration old and approved."
		}
	}
	for _, cond := range csr.Status.Conditions {
		if cond.Type == certificatesv1.CertificateDenied && c.olderThan(cond.LastUpdateTime, DeniedExpiration) {
			return "Cleaning CSR as it is more than deniedExpiration duration old and denied."
		}
	}
	for _, cond := range csr.Status.Conditions {
		if cond.Type == certificatesv1.CertificateFailed && c.olderThan(cond.LastUpdateTime, DeniedExpiration) {
			return "Cleaning CSR as it is more than deniedExpiration duration old and failed."
		}
	}
	if len(csr.Status.Conditions) == 0 && c.olderThan(csr.CreationTimestamp, PendingExpiration) {
		return "Cleaning CSR as it is more than pendingExpiration duration old and unhandled."
	}
	for _, cond := range csr.Status.Conditions {
		if cond.Type == certificatesv1.CertificateApproved && issued && c.expired(csr.Status.Certificate) {
			return "Cleaning CSR as the associated certificate is expired."
		}
	}
	for _, cond := range csr.Status.Conditions {
		if !issued && cond.Type == certificatesv1.CertificateApproved && c.olderThan(cond.LastUpdateTime, PendingExpiration) {
			return "Cleaning CSR as it is approved but unissued for more than pendingExpiration duration."
		}
	}
	return ""
}

// olderThan reports whether t is set and more than d ago.
func (c *Cleaner) olderThan(t metav1.Time, d time.Duration) bool {
	return !t.IsZero() && c.clock.Since(t.Time) > d
}

// expired reports whether the first certificate of certPEM is past its
// NotAfter (false when it does not parse).
func (c *Cleaner) expired(certPEM []byte) bool {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return false
	}
	certs, err := x509.ParseCertificates(block.Bytes)
	if err != nil || len(certs) == 0 {
		return false
	}
	return c.clock.Now().After(certs[0].NotAfter)
}
