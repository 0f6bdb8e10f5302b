package serviceaccount

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Names of service-account users, as upstream.
const (
	UsernamePrefix = "system:serviceaccount:"
	// AllServiceAccountsGroup holds every service account; each also is in
	// GroupPrefix+<namespace>.
	AllServiceAccountsGroup = "system:serviceaccounts"
	GroupPrefix             = "system:serviceaccounts:"
	// LegacyIssuer is the "iss" of the tokens of kubernetes.io/
	// service-account-token Secrets.
	LegacyIssuer = "kubernetes/serviceaccount"
)

// Keys of authn.User.Extra set for service-account tokens, as upstream.
const (
	ExtraPodName      = "authentication.kubernetes.io/pod-name"
	ExtraPodUID       = "authentication.kubernetes.io/pod-uid"
	ExtraNodeName     = "authentication.kubernetes.io/node-name"
	ExtraNodeUID      = "authentication.kubernetes.io/node-uid"
	ExtraCredentialID = "authentication.kubernetes.io/credential-id"
)

// Username is the user name of a service account.
func Username(namespace, name string) string { return UsernamePrefix + namespace + ":" + name }

// SplitUsername returns the namespace and name of a service-account user
// name; ok is false for any other name.
func SplitUsername(username string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(username, UsernamePrefix)
	if !ok {
		return "", "", false
	}
	namespace, name, ok = strings.Cut(rest, ":")
	if !ok || namespace == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return namespace, name, true
}

// claims is a token's payload: the registered claims, upstream's
// "kubernetes.io" claims of bound tokens and the flat claims of legacy
// (Secret) tokens.
type claims struct {
	Issuer     string            `json:"iss,omitempty"`
	Subject    string            `json:"sub,omitempty"`
	Audience   audience          `json:"aud,omitempty"`
	Expiry     numericDate       `json:"exp,omitempty"`
	NotBefore  numericDate       `json:"nbf,omitempty"`
	IssuedAt   numericDate       `json:"iat,omitempty"`
	ID         string            `json:"jti,omitempty"`
	Kubernetes *kubernetesClaims `json:"kubernetes.io,omitempty"`

	LegacyServiceAccountName string `json:"kubernetes.io/serviceaccount/service-account.name,omitempty"`
	LegacyServiceAccountUID  string `json:"kubernetes.io/serviceaccount/service-account.uid,omitempty"`
	LegacySecretName         string `json:"kubernetes.io/serviceaccount/secret.name,omitempty"`
	LegacyNamespace          string `json:"kubernetes.io/serviceaccount/namespace,omitempty"`
}

type kubernetesClaims struct {
	Namespace      string      `json:"namespace,omitempty"`
	ServiceAccount ref         `json:"serviceaccount,omitempty"`
	Pod            *ref        `json:"pod,omitempty"`
	Secret         *ref        `json:"secret,omitempty"`
	Node           *ref        `json:"node,omitempty"`
	WarnAfter      numericDate `json:"warnafter,omitempty"`
}

type ref struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

func refOf(r registry.ObjectRef) *ref {
	if r.Name == "" {
		return nil
	}
	return &ref{Name: r.Name, UID: string(r.UID)}
}

// audience is "aud": a string or an array of strings; written as an array.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("invalid aud claim")
	}
	*a = many
	return nil
}

// numericDate is a JWT time: seconds since the epoch (a JSON number that may
// have a fraction when read).
type numericDate int64

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("invalid date claim")
	}
	*d = numericDate(f)
	return nil
}

func dateOf(t time.Time) numericDate {
	if t.IsZero() {
		return 0
	}
	return numericDate(t.Unix())
}

func (d numericDate) time() time.Time { return time.Unix(int64(d), 0) }

// Issuer signs bound service-account tokens for one issuer
// (--service-account-issuer, the first one) with
// --service-account-signing-key-file. It is the server's
// registry.TokenIssuer.
type Issuer struct {
	issuer string
	signer *signer
	rand   io.Reader
}

var _ registry.TokenIssuer = (*Issuer)(nil)

// NewIssuer returns an Issuer signing with key (RSA: RS256; ECDSA: ES256,
// ES384 or ES512 by curve) and the key ID of its public key.
func NewIssuer(issuer string, key crypto.Signer) (*Issuer, error) {
	if issuer == "" {
		return nil, errors.New("service account issuer is empty")
	}
	s, err := newSigner(key)
	if err != nil {
		return nil, err
	}
	return &Issuer{issuer: issuer, signer: s, rand: rand.Reader}, nil
}

// IssueToken signs a token saying c, as upstream's Claims and
// GenerateToken: sub system:serviceaccount:<ns>:<name>, aud, iat = nbf =
// c.IssuedAt, exp, a random jti and the "kubernetes.io" claims (namespace,
// serviceaccount, pod or secret, node, warnafter).
func (i *Issuer) IssueToken(_ context.Context, c registry.TokenClaims) (string, error) {
	if c.Namespace == "" || c.ServiceAccount.Name == "" {
		return "", errors.New("token claims name no service account")
	}
	if c.Secret.Name != "" && (c.Pod.Name != "" || c.Node.Name != "") {
		return "", errors.New("a token can only be bound to one object type")
	}
	if len(c.Audiences) == 0 {
		return "", errors.New("token claims have no audience")
	}
	if c.Expiration <= 0 {
		return "", errors.New("token expiration must be positive")
	}
	jti, err := newUUID(i.rand)
	if err != nil {
		return "", err
	}
	k := &kubernetesClaims{
		Namespace:      c.Namespace,
		ServiceAccount: ref{Name: c.ServiceAccount.Name, UID: string(c.ServiceAccount.UID)},
		Pod:            refOf(c.Pod), Secret: refOf(c.Secret), Node: refOf(c.Node),
		WarnAfter: dateOf(c.WarnAfter),
	}
	return i.signer.sign(&claims{
		Issuer:     i.issuer,
		Subject:    Username(c.Namespace, c.ServiceAccount.Name),
		Audience:   audience(c.Audiences),
		IssuedAt:   dateOf(c.IssuedAt),
		NotBefore:  dateOf(c.IssuedAt),
		Expiry:     dateOf(c.IssuedAt.Add(c.Expiration)),
		ID:         jti,
		Kubernetes: k,
	})
}

// KeyID is the "kid" of the issuer's tokens.
func (i *Issuer) KeyID() string { return i.signer.pub.KeyID }

// SignLegacyToken signs the token of a kubernetes.io/service-account-token
// Secret as upstream's token controller: issuer kubernetes/serviceaccount,
// no audience and no expiry, the service account and the Secret's name.
func SignLegacyToken(key crypto.Signer, namespace, serviceAccount, serviceAccountUID, secretName string) (string, error) {
	s, err := newSigner(key)
	if err != nil {
		return "", err
	}
	return s.sign(&claims{
		Issuer:                   LegacyIssuer,
		Subject:                  Username(namespace, serviceAccount),
		LegacyNamespace:          namespace,
		LegacyServiceAccountName: serviceAccount,
		LegacyServiceAccountUID:  serviceAccountUID,
		LegacySecretName:         secretName,
	})
}

// newUUID returns a random (version 4) UUID.
func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("generating token ID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
