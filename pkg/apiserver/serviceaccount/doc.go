// Package serviceaccount signs and verifies service-account tokens, as
// upstream's pkg/serviceaccount, with the standard library only: compact JWS
// (RS256 for RSA keys, ES256/ES384/ES512 for ECDSA keys) with the key ID
// upstream computes from the public key; bound tokens with upstream's claims
// (iss, sub, aud, exp, iat, nbf, jti and "kubernetes.io": namespace,
// serviceaccount, pod/secret, node, warnafter) issued for TokenRequest; an
// authenticator of bound and legacy (Secret) tokens that checks the
// signature, issuer, audience, times and that the objects the token names
// still exist; and the OIDC discovery documents of the issuer.
package serviceaccount
