package nodeipam

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// ErrNoCIDRsRemaining is returned by cidrSet.allocateNext when every node
// CIDR of the cluster CIDR is in use (upstream's
// ErrCIDRRangeNoCIDRsRemaining, with its message).
var ErrNoCIDRsRemaining = errors.New("CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")

// maxNodeCIDRBits is how many more bits than the cluster CIDR's a node
// CIDR may have: at most 2^16 node CIDRs per cluster CIDR, as upstream.
const maxNodeCIDRBits = 16

// cidrSet tracks which node CIDRs (blocks of nodeBits) of one cluster CIDR
// are in use. It is not safe for concurrent use: the Controller's mutex
// guards it.
type cidrSet struct {
	cluster  netip.Prefix
	nodeBits int
	// shift is the number of host bits of a node CIDR.
	shift int
	used  []bool
	count int
}

// newCIDRSet returns the empty set of cluster's node CIDRs of nodeBits.
func newCIDRSet(cluster netip.Prefix, nodeBits int) (*cidrSet, error) {
	cluster = cluster.Masked()
	addrBits := cluster.Addr().BitLen()
	if nodeBits < cluster.Bits() || nodeBits > addrBits {
		return nil, fmt.Errorf("node CIDR mask size %d does not fit cluster CIDR %s", nodeBits, cluster)
	}
	if nodeBits-cluster.Bits() > maxNodeCIDRBits {
		return nil, fmt.Errorf("node CIDR mask size %d splits cluster CIDR %s into more than 2^%d node CIDRs", nodeBits, cluster, maxNodeCIDRBits)
	}
	return &cidrSet{cluster: cluster, nodeBits: nodeBits, shift: addrBits - nodeBits,
		used: make([]bool, 1<<(nodeBits-cluster.Bits()))}, nil
}

// family reports whether p is of the set's IP family.
func (s *cidrSet) family(p netip.Prefix) bool { return p.Addr().Is4() == s.cluster.Addr().Is4() }

// allocateNext marks the first free node CIDR (the lowest address) used
// and returns it; ErrNoCIDRsRemaining when none is free.
func (s *cidrSet) allocateNext() (netip.Prefix, error) {
	if s.count == len(s.used) {
		return netip.Prefix{}, ErrNoCIDRsRemaining
	}
	for i, u := range s.used {
		if !u {
			s.used[i] = true
			s.count++
			return s.block(i), nil
		}
	}
	return netip.Prefix{}, ErrNoCIDRsRemaining // unreachable: count says one is free
}

// occupy marks every node CIDR p overlaps used (a p holding the cluster
// CIDR marks them all); it is an error for p to be outside the cluster
// CIDR or of the other family.
func (s *cidrSet) occupy(p netip.Prefix) error { return s.mark(p, true) }

// release marks every node CIDR p overlaps free; the same errors as occupy.
func (s *cidrSet) release(p netip.Prefix) error { return s.mark(p, false) }

func (s *cidrSet) mark(p netip.Prefix, used bool) error {
	begin, end, err := s.indices(p)
	if err != nil {
		return err
	}
	for i := begin; i <= end; i++ {
		if s.used[i] != used {
			s.used[i] = used
			if used {
				s.count++
			} else {
				s.count--
			}
		}
	}
	return nil
}

// indices returns the first and last node CIDR p overlaps.
func (s *cidrSet) indices(p netip.Prefix) (begin, end int, err error) {
	p = p.Masked()
	if !p.IsValid() || !s.family(p) || !p.Overlaps(s.cluster) {
		return 0, 0, fmt.Errorf("CIDR %s is out of the range of cluster CIDR %s", p, s.cluster)
	}
	if p.Bits() <= s.cluster.Bits() {
		return 0, len(s.used) - 1, nil
	}
	first := toInt(p.Addr())
	last := new(big.Int).Lsh(big.NewInt(1), uint(p.Addr().BitLen()-p.Bits()))
	last.Add(last, first).Sub(last, big.NewInt(1))
	return s.index(first), s.index(last), nil
}

// index is the number of the node CIDR holding the address a, which lies
// in the cluster CIDR.
func (s *cidrSet) index(a *big.Int) int {
	off := new(big.Int).Sub(a, toInt(s.cluster.Addr()))
	return int(off.Rsh(off, uint(s.shift)).Int64())
}

// block returns node CIDR number i.
func (s *cidrSet) block(i int) netip.Prefix {
	a := new(big.Int).Lsh(big.NewInt(int64(i)), uint(s.shift))
	a.Add(a, toInt(s.cluster.Addr()))
	buf := make([]byte, s.cluster.Addr().BitLen()/8)
	a.FillBytes(buf)
	addr, _ := netip.AddrFromSlice(buf)
	return netip.PrefixFrom(addr, s.nodeBits)
}

func toInt(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }
