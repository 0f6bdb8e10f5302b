package serviceaccount

import (
	"context"
	"testing"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// BenchmarkAuthenticateToken measures what a request with a pod-bound
// token costs the apiserver beyond the lookups (served by a map here): on
// first use parsing, signature verification and claim checks; on repeated
// use (the signature remembered) the claim checks.
func BenchmarkAuthenticateToken(b *testing.B) {
	for _, alg := range []pki.KeyAlgorithm{pki.ECDSAP256, pki.RSA2048} {
		for _, repeated := range []bool{false, true} {
			name := string(alg) + "/first"
			if repeated {
				name = string(alg) + "/repeated"
			}
			b.Run(name, func(b *testing.B) {
				f := newFixture(b, alg)
				tok, err := f.issuer.IssueToken(context.Background(), podClaims())
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if !repeated {
						clear(f.auth.verified.m)
					}
					if _, ok, err := f.auth.AuthenticateToken(ctx, tok); !ok || err != nil {
						b.Fatal(ok, err)
					}
				}
			})
		}
	}
}
