package service

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// maxRangeSize bounds the addresses tracked in one CIDR (upstream limits
// IPv6 service ranges to 20 host bits, a /12 of IPv4 is the same size).
const maxRangeSize = 1 << 20

// ListServices returns the stored services; allocators call it once, on
// first use, to learn what a previous apiserver process allocated.
type ListServices func(ctx context.Context) ([]*corev1.Service, error)

// ClusterIPAllocator hands out cluster IPs from one service CIDR. It
// implements registry.Allocator (and UpdateAllocator).
//
// The network address (and, for IPv4, the broadcast address) is never
// handed out; the first address (x.x.x.1, the `kubernetes` service's) only
// when requested. Other IPs are picked at random. A requested
// spec.clusterIP is honoured or refused with upstream's 422 messages;
// headless services get "None" and ExternalName services nothing.
//
// The set of used addresses is seeded lazily from ListServices on the first
// call, so a restarted apiserver does not hand out an address twice; a
// failed listing is retried on the next call. Safe for concurrent use.
type ClusterIPAllocator struct {
	cidr     *net.IPNet
	family   corev1.IPFamily
	size     int // addresses tracked, offsets [0, size)
	existing ListServices

	mu     sync.Mutex
	seeded bool
	used   map[int]struct{}
	rng    *rand.Rand
}

var _ registry.Allocator = (*ClusterIPAllocator)(nil)

// NewClusterIPAllocator returns an allocator for cidr that seeds itself from
// existing (which may be nil for an empty cluster).
func NewClusterIPAllocator(cidr *net.IPNet, existing func(ctx context.Context) ([]*corev1.Service, error)) *ClusterIPAllocator {
	ones, bits := cidr.Mask.Size()
	size := maxRangeSize
	if bits-ones < 20 {
		size = 1 << (bits - ones)
	}
	family := corev1.IPv4Protocol
	if cidr.IP.To4() == nil {
		family = corev1.IPv6Protocol
	}
	return &ClusterIPAllocator{
		cidr:     &net.IPNet{IP: cidr.IP.Mask(cidr.Mask), Mask: cidr.Mask},
		family:   family,
		size:     size,
		existing: existing,
		used:     map[int]struct{}{},
		rng:      rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
}

// Family returns the IP family of the allocator's CIDR.
func (a *ClusterIPAllocator) Family() corev1.IPFamily { return a.family }

// Allocate sets spec.clusterIP and spec.clusterIPs of a new service. The
// returned undo frees what it allocated. Errors are API status errors: 422
// Invalid (kind Service, upstream's causes) for a requested IP that is
// taken, out of range, or of another family; 500 when the range is full or
// seeding failed.
func (a *ClusterIPAllocator) Allocate(ctx context.Context, obj runtime.Object) (func(), error) {
	svc := obj.(*corev1.Service)
	return a.allocate(ctx, svc, "")
}

// AllocateUpdate allocates for an update: an address only when the new
// object needs one that old did not hold (a switch from ExternalName, or a
// service that was never given one).
func (a *ClusterIPAllocator) AllocateUpdate(ctx context.Context, obj, old runtime.Object) (func(), error) {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	return a.allocate(ctx, svc, oldSvc.Spec.ClusterIP)
}

// Release frees the service's cluster IP.
func (a *ClusterIPAllocator) Release(_ context.Context, obj runtime.Object) {
	a.release(obj.(*corev1.Service).Spec.ClusterIP)
}

// ReleaseUpdate frees old's cluster IP when the updated object no longer
// holds it (a switch to ExternalName). Call it after the update is stored.
func (a *ClusterIPAllocator) ReleaseUpdate(_ context.Context, obj, old runtime.Object) {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	if oldSvc.Spec.ClusterIP != svc.Spec.ClusterIP {
		a.release(oldSvc.Spec.ClusterIP)
	}
}

func (a *ClusterIPAllocator) allocate(ctx context.Context, svc *corev1.Service, held string) (func(), error) {
	noop := func() {}
	if !needsClusterIP(svc) {
		return noop, nil
	}
	setIPFamilies(svc, a.family)
	if fe := a.checkFamilies(svc); fe != nil {
		return noop, invalid(svc, fe)
	}
	if isHeadless(svc) {
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
		return noop, nil
	}
	if held != "" && svc.Spec.ClusterIP == held {
		return noop, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.seed(ctx); err != nil {
		return noop, err
	}
	var off int
	if req := svc.Spec.ClusterIP; req != "" {
		var msg string
		off, msg = a.claim(req)
		if msg != "" {
			return noop, invalid(svc, field.Invalid(field.NewPath("spec", "clusterIPs"), svc.Spec.ClusterIPs, fmt.Sprintf("failed to allocate IP %v: %v", req, msg)))
		}
	} else {
		var ok bool
		if off, ok = a.next(); !ok {
			return noop, apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: range is full"))
		}
	}
	ip := a.ipAt(off).String()
	svc.Spec.ClusterIP = ip
	if len(svc.Spec.ClusterIPs) == 0 {
		svc.Spec.ClusterIPs = []string{ip}
	}
	return func() { a.release(ip) }, nil
}

// invalid wraps a field error in the 422 Invalid status error of svc.
func invalid(svc *corev1.Service, fe *field.Error) error {
	return apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, svc.Name, field.ErrorList{fe})
}

// checkFamilies refuses what a single-stack cluster cannot serve.
func (a *ClusterIPAllocator) checkFamilies(svc *corev1.Service) *field.Error {
	if p := svc.Spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicyRequireDualStack &&
		!(isHeadless(svc) && len(svc.Spec.Selector) == 0) {
		return field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), *p, "this cluster is not configured for dual-stack services")
	}
	for i, f := range svc.Spec.IPFamilies {
		if f != a.family {
			return field.Invalid(field.NewPath("spec", "ipFamilies").Index(i), f, "not configured on this cluster")
		}
	}
	if len(svc.Spec.IPFamilies) > 1 && !(isHeadless(svc) && len(svc.Spec.Selector) == 0) {
		return field.Invalid(field.NewPath("spec", "ipFamilies"), svc.Spec.IPFamilies, "this cluster is not configured for dual-stack services")
	}
	return nil
}

// seed marks the addresses of the stored services, once. Called with mu held.
func (a *ClusterIPAllocator) seed(ctx context.Context) error {
	if a.seeded || a.existing == nil {
		a.seeded = true
		return nil
	}
	svcs, err := a.existing(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("failed to load allocated service IPs: %w", err))
	}
	for _, s := range svcs {
		for _, ip := range append([]string{s.Spec.ClusterIP}, s.Spec.ClusterIPs...) {
			if off, ok := a.offset(net.ParseIP(ip)); ok {
				a.used[off] = struct{}{}
			}
		}
	}
	a.seeded = true
	return nil
}

// claim marks a requested address, returning upstream's error text when it
// cannot be had. Called with mu held.
func (a *ClusterIPAllocator) claim(req string) (int, string) {
	ip := net.ParseIP(req)
	off, ok := a.offset(ip)
	if !ok || !a.assignable(off) {
		return 0, fmt.Sprintf("the provided IP (%v) is not in the valid range. The range of valid IPs is %s", req, a.cidr)
	}
	if _, taken := a.used[off]; taken {
		return 0, "provided IP is already allocated"
	}
	a.used[off] = struct{}{}
	return off, ""
}

// next picks a free dynamic address at random. Called with mu held.
func (a *ClusterIPAllocator) next() (int, bool) {
	lo, hi := 2, a.lastAssignable() // offset 1 is only handed out on request
	if hi < lo {
		return 0, false
	}
	n := hi - lo + 1
	start := a.rng.IntN(n)
	for i := 0; i < n; i++ {
		off := lo + (start+i)%n
		if _, taken := a.used[off]; !taken {
			a.used[off] = struct{}{}
			return off, true
		}
	}
	return 0, false
}

func (a *ClusterIPAllocator) release(ip string) {
	off, ok := a.offset(net.ParseIP(ip))
	if !ok {
		return
	}
	a.mu.Lock()
	delete(a.used, off)
	a.mu.Unlock()
}

// assignable reports whether offset names a host address of the range.
func (a *ClusterIPAllocator) assignable(off int) bool {
	return off >= 1 && off <= a.lastAssignable()
}

// lastAssignable excludes the IPv4 broadcast address.
func (a *ClusterIPAllocator) lastAssignable() int {
	if a.family == corev1.IPv4Protocol {
		return a.size - 2
	}
	return a.size - 1
}

// offset returns ip's distance from the network address, if ip is in the
// tracked part of the range.
func (a *ClusterIPAllocator) offset(ip net.IP) (int, bool) {
	if ip == nil || !a.cidr.Contains(ip) {
		return 0, false
	}
	base := a.cidr.IP
	if a.family == corev1.IPv4Protocol {
		ip, base = ip.To4(), base.To4()
	} else {
		ip, base = ip.To16(), base.To16()
	}
	d := new(big.Int).Sub(new(big.Int).SetBytes(ip), new(big.Int).SetBytes(base))
	if !d.IsInt64() || d.Int64() >= int64(a.size) {
		return 0, false
	}
	return int(d.Int64()), true
}

func (a *ClusterIPAllocator) ipAt(off int) net.IP {
	base := a.cidr.IP.To16()
	if a.family == corev1.IPv4Protocol {
		base = a.cidr.IP.To4()
	}
	sum := new(big.Int).Add(new(big.Int).SetBytes(base), big.NewInt(int64(off))).Bytes()
	out := make(net.IP, len(base))
	copy(out[len(out)-len(sum):], sum)
	return out
}
