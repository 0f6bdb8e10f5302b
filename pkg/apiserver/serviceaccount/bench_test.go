package serviceaccount

import (
	"context"
	"testing"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// BenchmarkAuthenticateToken measures what a request with a pod-bound
// token costs the apiserver beyond the lookups (served by a map here):
// parsing, signature verification and claim checks.
func BenchmarkAuthenticateToken(b *testing.B) {
	for _, alg := range []pki.KeyAlgorithm{pki.ECDSAP256, pki.RSA2048} {
		b.Run(string(alg), func(b *testing.B) {
			f := newFixture(b, alg)
			tok, err := f.issuer.IssueToken(context.Background(), podClaims())
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, ok, err := f.auth.AuthenticateToken(ctx, tok); !ok || err != nil {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
