package authn

import (
	"crypto/x509"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// TestX509ChainCache: a chain that verified is remembered until its first
// certificate expires (by the cache's clock); one that failed is not, and
// a chain is remembered with its intermediates, not by its leaf alone.
func TestX509ChainCache(t *testing.T) {
	ca := issue(t, certSpec{cn: "kubernetes", isCA: true}, nil)
	otherCA := issue(t, certSpec{cn: "other", isCA: true}, nil)
	clk := clocktesting.NewFakePassiveClock(time.Now())
	a := X509{Roots: pool(ca), Verified: NewChainCache(clk)}
	alice := issue(t, certSpec{cn: "alice", notAfter: time.Now().Add(10 * time.Minute)}, ca)

	if _, ok, err := a.AuthenticateRequest(requestWith(alice)); !ok || err != nil {
		t.Fatalf("alice: %v %v", ok, err)
	}
	if !a.Verified.verified(chainKey([]*x509.Certificate{alice.cert})) {
		t.Error("a verified chain is not remembered")
	}
	mallory := issue(t, certSpec{cn: "mallory"}, otherCA)
	for range 2 {
		if _, ok, err := a.AuthenticateRequest(requestWith(mallory)); ok || err == nil {
			t.Errorf("another CA's certificate: %v %v", ok, err)
		}
	}
	if a.Verified.verified(chainKey([]*x509.Certificate{mallory.cert})) {
		t.Error("a chain that failed is remembered")
	}
	clk.SetTime(time.Now().Add(11 * time.Minute))
	if a.Verified.verified(chainKey([]*x509.Certificate{alice.cert})) {
		t.Error("an expired chain is still remembered")
	}
	if _, ok, err := a.AuthenticateRequest(requestWith(alice)); ok || err == nil {
		t.Errorf("alice after her certificate expired: %v %v", ok, err)
	}
}
