// Package approver is kinc's certificatesigningrequest-approving-controller
// (--controllers alias "csrapproving"), upstream's sarApprover: it approves
// the kubelet client certificate requests (signer
// kubernetes.io/kube-apiserver-client-kubelet, O=system:nodes,
// CN=system:node:<name>, no SAN, client auth usages) of requesters allowed
// to make them, as upstream:
//
//   - a node renewing its own certificate (spec.username is the request's
//     CN) when a SubjectAccessReview allows the requester to "create"
//     certificatesigningrequests/selfnodeclient;
//   - otherwise (the bootstrap flow: a bootstrap token user asking for a
//     node's first certificate) when one allows "create"
//     certificatesigningrequests/nodeclient.
//
// The review is made through the API (authorization.k8s.io/v1
// subjectaccessreviews) for spec.username, uid, groups and extra, so that
// the cluster's authorizer (RBAC's system:certificates.k8s.io:* roles
// upstream) decides. An approved request gets the condition Approved,
// reason AutoApproved, with upstream's message, through the /approval
// subresource. A request recognized but not allowed is retried with
// backoff; any other request (other signers, kubelet serving certificates)
// is left to a human, as upstream. It records no events.
package approver

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
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
// "certificatesigningrequest-approving-controller").
const Name = "csrapproving"

// ReasonAutoApproved is the reason of the Approved condition it adds.
const ReasonAutoApproved = "AutoApproved"

// Upstream's messages of the Approved condition.
const (
	SelfNodeClientMessage = "Auto approving self kubelet client certificate after SubjectAccessReview."
	NodeClientMessage     = "Auto approving kubelet client certificate after SubjectAccessReview."
)

// Options configure an Approver.
type Options struct {
	// Logger receives the loop's lines; nil discards them.
	Logger *slog.Logger
	// Clock drives retries; nil means the real clock.
	Clock clock.WithTicker
}

// Approver approves kubelet client requests. Run (from the embedded Loop)
// runs it; its queue keys are CSR names.
type Approver struct {
	*controller.Loop
	client kubernetes.Interface
	sync   controller.SyncFunc
}

// New returns an approver reading CSRs through csrs (whose factory the
// caller starts), reviewing access and approving through client.
func New(client kubernetes.Interface, csrs certinformers.CertificateSigningRequestInformer, opts Options) *Approver {
	a := &Approver{client: client}
	a.Loop, a.sync = certificates.NewLoop(Name, csrs, a.handle, certificates.LoopOptions{Logger: opts.Logger, Clock: opts.Clock})
	return a
}

// recognizer is a kind of request the approver approves after a review of
// permission.
type recognizer struct {
	recognize  func(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) bool
	permission authorizationv1.ResourceAttributes
	message    string
}

// recognizers are upstream's, in its order.
func recognizers() []recognizer {
	attrs := func(subresource string) authorizationv1.ResourceAttributes {
		return authorizationv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "certificatesigningrequests",
			Verb: "create", Subresource: subresource, Version: "*"}
	}
	return []recognizer{
		{recognize: isSelfNodeClient, permission: attrs("selfnodeclient"), message: SelfNodeClientMessage},
		{recognize: isNodeClient, permission: attrs("nodeclient"), message: NodeClientMessage},
	}
}

// handle approves csr (a copy, without a certificate) when it is pending,
// recognized and allowed.
func (a *Approver) handle(ctx context.Context, csr *certificatesv1.CertificateSigningRequest) error {
	if approved, denied := certificates.ApprovalState(&csr.Status); approved || denied {
		return nil
	}
	req, err := certificates.ParseRequest(csr.Spec.Request)
	if err != nil {
		return fmt.Errorf("unable to parse csr %q: %w", csr.Name, err)
	}
	var tried []string
	for _, r := range recognizers() {
		if !r.recognize(csr, req) {
			continue
		}
		tried = append(tried, r.permission.Subresource)
		allowed, err := a.authorize(ctx, csr, r.permission)
		if err != nil {
			return err
		}
		if !allowed {
			continue
		}
		csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue,
			Reason: ReasonAutoApproved, Message: r.message,
		})
		if _, err := a.client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("error updating approval for csr: %w", err)
		}
		return nil
	}
	if len(tried) > 0 {
		return fmt.Errorf("recognized csr %q as %v but subject access review was not approved", csr.Name, tried)
	}
	return nil
}

// authorize asks the apiserver whether the requester may do rattrs.
func (a *Approver) authorize(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, rattrs authorizationv1.ResourceAttributes) (bool, error) {
	extra := make(map[string]authorizationv1.ExtraValue, len(csr.Spec.Extra))
	for k, v := range csr.Spec.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: csr.Spec.Username, UID: csr.Spec.UID, Groups: csr.Spec.Groups, Extra: extra,
		ResourceAttributes: &rattrs,
	}}
	sar, err := a.client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("subject access review for csr %q: %w", csr.Name, err)
	}
	return sar.Status.Allowed, nil
}

// isNodeClient recognizes a kubelet client request.
func isNodeClient(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) bool {
	return csr.Spec.SignerName == certificatesv1.KubeAPIServerClientKubeletSignerName &&
		certificates.ValidateKubeletClient(req, csr.Spec.Usages) == nil
}

// isSelfNodeClient recognizes a kubelet client request by the node itself.
func isSelfNodeClient(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) bool {
	return csr.Spec.Username == req.Subject.CommonName && isNodeClient(csr, req)
}
