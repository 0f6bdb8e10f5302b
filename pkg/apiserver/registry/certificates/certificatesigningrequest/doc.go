// Package certificatesigningrequest holds the registry rules of
// certificates.k8s.io/v1 CertificateSigningRequests (cluster-scoped, short
// name csr): the requesting user recorded in spec on create, a spec that
// never changes, a PEM "CERTIFICATE REQUEST" with a valid signature, known
// usages and a signer name, and upstream's three write paths — the object
// itself (metadata only), /status (status.certificate and conditions other
// than Approved/Denied, for signers) and /approval (Approved/Denied
// conditions only, for approvers).
package certificatesigningrequest
