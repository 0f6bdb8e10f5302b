package nodeipam

import (
	"errors"
	"net/netip"
	"testing"
)

func mustSet(t *testing.T, cluster string, bits int) *cidrSet {
	t.Helper()
	s, err := newCIDRSet(netip.MustParsePrefix(cluster), bits)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allocate(t *testing.T, s *cidrSet) string {
	t.Helper()
	p, err := s.allocateNext()
	if err != nil {
		t.Fatal(err)
	}
	return p.String()
}

// TestCIDRSetAllocatesLowestFree: blocks come in address order, a freed
// one is the next given, and a full set says so with upstream's message.
func TestCIDRSetAllocatesLowestFree(t *testing.T) {
	s := mustSet(t, "10.244.0.0/22", 24)
	for _, want := range []string{"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"} {
		if got := allocate(t, s); got != want {
			t.Fatalf("allocated %s, want %s", got, want)
		}
	}
	if err := s.release(netip.MustParsePrefix("10.244.1.0/24")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"10.244.1.0/24", "10.244.3.0/24"} {
		if got := allocate(t, s); got != want {
			t.Fatalf("allocated %s, want %s", got, want)
		}
	}
	if _, err := s.allocateNext(); !errors.Is(err, ErrNoCIDRsRemaining) {
		t.Fatalf("full set: %v", err)
	}
	if s.count != 4 {
		t.Errorf("count %d, want 4", s.count)
	}
}

// TestCIDRSetOccupy: occupying marks every block a CIDR overlaps (a
// smaller one its block, a bigger one all it holds, one holding the whole
// cluster CIDR everything), idempotently; what is outside is an error.
func TestCIDRSetOccupy(t *testing.T) {
	s := mustSet(t, "10.244.0.0/16", 24)
	for _, p := range []string{"10.244.0.0/24", "10.244.0.0/24", "10.244.1.128/25", "10.244.2.0/23"} {
		if err := s.occupy(netip.MustParsePrefix(p)); err != nil {
			t.Fatal(err)
		}
	}
	if s.count != 4 {
		t.Errorf("count %d after occupying blocks 0-3, want 4", s.count)
	}
	if got := allocate(t, s); got != "10.244.4.0/24" {
		t.Errorf("allocated %s, want 10.244.4.0/24", got)
	}
	for _, bad := range []string{"10.245.0.0/24", "192.168.0.0/16", "fd00::/64"} {
		if err := s.occupy(netip.MustParsePrefix(bad)); err == nil {
			t.Errorf("occupy %s: no error", bad)
		}
	}
	if err := s.occupy(netip.MustParsePrefix("10.0.0.0/8")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.allocateNext(); !errors.Is(err, ErrNoCIDRsRemaining) {
		t.Errorf("after occupying a CIDR holding the cluster CIDR: %v", err)
	}
}

// TestCIDRSetIPv6: /64 blocks of an IPv6 cluster CIDR.
func TestCIDRSetIPv6(t *testing.T) {
	s := mustSet(t, "fd00:10:244::/56", 64)
	if err := s.occupy(netip.MustParsePrefix("fd00:10:244::/64")); err != nil {
		t.Fatal(err)
	}
	if got := allocate(t, s); got != "fd00:10:244:1::/64" {
		t.Errorf("allocated %s", got)
	}
	if len(s.used) != 256 {
		t.Errorf("%d blocks, want 256", len(s.used))
	}
}

// TestNewCIDRSetRefuses: node CIDRs bigger than the cluster CIDR, longer
// than an address, or more than 2^16 of them.
func TestNewCIDRSetRefuses(t *testing.T) {
	for _, tt := range []struct {
		cluster string
		bits    int
	}{{"10.244.0.0/16", 15}, {"10.244.0.0/16", 33}, {"10.0.0.0/8", 25}, {"fd00::/48", 65}} {
		if _, err := newCIDRSet(netip.MustParsePrefix(tt.cluster), tt.bits); err == nil {
			t.Errorf("newCIDRSet(%s, %d): no error", tt.cluster, tt.bits)
		}
	}
}
