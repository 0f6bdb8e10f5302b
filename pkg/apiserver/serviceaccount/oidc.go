package serviceaccount

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
)

// Paths of the service-account issuer discovery documents, as upstream.
const (
	OpenIDConfigPath = "/.well-known/openid-configuration"
	JWKSPath         = "/openid/v1/jwks"
)

// oidcMaxAge is the Cache-Control max-age of both documents (upstream's
// static key getter's 3600 s).
const oidcMaxAge = 3600

// OIDC serves service-account issuer discovery: the OpenID configuration
// and the JSON Web Key Set of the verification keys, computed once.
type OIDC struct {
	config, keyset []byte
}

// NewOIDC builds the documents of issuerURL (an https URL without query or
// fragment, as upstream requires to serve them) whose keys are at jwksURI
// (https).
func NewOIDC(issuerURL, jwksURI string, keys []PublicKey) (*OIDC, error) {
	iss, err := url.Parse(issuerURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("issuer URL: %w", err)
	case iss.Scheme != "https":
		return nil, fmt.Errorf("issuer URL must use https scheme, got: %s", issuerURL)
	case iss.RawQuery != "":
		return nil, fmt.Errorf("issuer URL may not include a query, got: %s", issuerURL)
	case iss.Fragment != "":
		return nil, fmt.Errorf("issuer URL may not include a fragment, got: %s", issuerURL)
	}
	if u, err := url.Parse(jwksURI); err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("jwks URI must be an https URL, got: %s", jwksURI)
	}
	if len(keys) == 0 {
		return nil, errors.New("no keys provided for validating keyset")
	}
	set := jwks{Keys: make([]jwk, 0, len(keys))}
	var algs []string
	for _, k := range keys {
		j, err := jwkOf(k)
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, j)
		if !slices.Contains(algs, k.alg) {
			algs = append(algs, k.alg)
		}
	}
	slices.Sort(algs)
	o := &OIDC{}
	if o.keyset, err = json.Marshal(set); err != nil {
		return nil, err
	}
	o.config, err = json.Marshal(openIDMetadata{Issuer: issuerURL, JWKSURI: jwksURI,
		ResponseTypes: []string{"id_token"}, SubjectTypes: []string{"public"}, SigningAlgs: algs})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// DefaultJWKSURI is upstream's jwks_uri when --service-account-jwks-uri is
// not set: the JWKS path at the apiserver's external address (host:port).
func DefaultJWKSURI(externalAddress string) string {
	return (&url.URL{Scheme: "https", Host: externalAddress, Path: JWKSPath}).String()
}

// ServeHTTP serves the document of the request's path (OpenIDConfigPath or
// JWKSPath; 404 otherwise); GET and HEAD only.
func (o *OIDC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	var ctype string
	switch r.URL.Path {
	case OpenIDConfigPath:
		body, ctype = o.config, "application/json"
	case JWKSPath:
		body, ctype = o.keyset, "application/jwk-set+json"
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", oidcMaxAge))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body)
	}
}

type openIDMetadata struct {
	Issuer        string   `json:"issuer"`
	JWKSURI       string   `json:"jwks_uri"`
	ResponseTypes []string `json:"response_types_supported"`
	SubjectTypes  []string `json:"subject_types_supported"`
	SigningAlgs   []string `json:"id_token_signing_alg_values_supported"`
}

type jwks struct {
	Keys []jwk `json:"keys"`
}

// jwk is a public JSON Web Key (RFC 7517) in go-jose's field order.
type jwk struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv,omitempty"`
	Alg string `json:"alg"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
}

func jwkOf(k PublicKey) (jwk, error) {
	j := jwk{Use: "sig", Kid: k.KeyID, Alg: k.alg}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		j.Kty = "RSA"
		j.N = b64.EncodeToString(pub.N.Bytes())
		j.E = b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		ecdh, err := pub.ECDH()
		if err != nil {
			return jwk{}, err
		}
		raw := ecdh.Bytes() // 0x04 || X || Y
		j.Kty, j.Crv = "EC", pub.Curve.Params().Name
		j.X = b64.EncodeToString(raw[1 : 1+size])
		j.Y = b64.EncodeToString(raw[1+size:])
	default:
		return jwk{}, fmt.Errorf("unsupported public key type %T", k.Key)
	}
	return j, nil
}
