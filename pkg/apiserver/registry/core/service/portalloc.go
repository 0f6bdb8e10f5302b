package service

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Default node port range (kube-apiserver --service-node-port-range).
const (
	DefaultNodePortBase = 30000
	DefaultNodePortSize = 2768
)

// NodePortAllocator hands out node ports (and health-check node ports) to
// NodePort and LoadBalancer services from [base, base+size). It implements
// registry.Allocator (and UpdateAllocator). Ports of one service that share
// a port number but differ in protocol share a node port, as upstream.
// Seeding and concurrency are as for ClusterIPAllocator.
type NodePortAllocator struct {
	base, size int
	existing   ListServices

	mu     sync.Mutex
	seeded bool
	used   map[int]struct{}
	rng    *rand.Rand
}

var _ registry.Allocator = (*NodePortAllocator)(nil)

// NewNodePortAllocator returns an allocator for ports [base, base+size)
// that seeds itself from existing (which may be nil).
func NewNodePortAllocator(base, size int, existing func(ctx context.Context) ([]*corev1.Service, error)) *NodePortAllocator {
	return &NodePortAllocator{
		base: base, size: size, existing: existing,
		used: map[int]struct{}{},
		rng:  rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
}

// Allocate fills spec.ports[*].nodePort (and spec.healthCheckNodePort for
// LoadBalancers with externalTrafficPolicy Local) of a new service. Errors
// are API status errors: 422 Invalid for a requested port taken or out of
// range; 500 when the range is full or seeding failed.
func (a *NodePortAllocator) Allocate(ctx context.Context, obj runtime.Object) (func(), error) {
	return a.allocate(ctx, obj.(*corev1.Service), nil)
}

// AllocateUpdate allocates the node ports the updated service holds that the
// stored one did not.
func (a *NodePortAllocator) AllocateUpdate(ctx context.Context, obj, old runtime.Object) (func(), error) {
	return a.allocate(ctx, obj.(*corev1.Service), portsOf(old.(*corev1.Service)))
}

// Release frees all node ports of the service.
func (a *NodePortAllocator) Release(_ context.Context, obj runtime.Object) {
	a.releaseAll(portsOf(obj.(*corev1.Service)), nil)
}

// ReleaseUpdate frees the ports old held that the stored update no longer
// does. Call it after the update is stored.
func (a *NodePortAllocator) ReleaseUpdate(_ context.Context, obj, old runtime.Object) {
	a.releaseAll(portsOf(old.(*corev1.Service)), portsOf(obj.(*corev1.Service)))
}

func (a *NodePortAllocator) allocate(ctx context.Context, svc *corev1.Service, held map[int]bool) (func(), error) {
	var got []int
	undo := func() { a.releaseList(got) }
	needPorts, needHC := needsNodePorts(svc), needsHealthCheck(svc)
	if !needPorts && !needHC && !hasNodePorts(svc) {
		return func() {}, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.seed(ctx); err != nil {
		return func() {}, err
	}
	fail := func(err error) (func(), error) {
		a.unlock(got)
		got = nil
		return func() {}, err
	}
	byPort := map[int32]int32{}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort == 0 && !needPorts {
			continue
		}
		switch {
		case p.NodePort != 0 && (held[int(p.NodePort)] || byPort[p.Port] == p.NodePort):
		case p.NodePort != 0:
			if msg := a.claim(int(p.NodePort)); msg != "" {
				return fail(invalid(svc, field.Invalid(field.NewPath("spec", "ports").Index(i).Child("nodePort"), p.NodePort, msg)))
			}
			got = append(got, int(p.NodePort))
		case byPort[p.Port] != 0:
			p.NodePort = byPort[p.Port]
		default:
			port, ok := a.next()
			if !ok {
				return fail(apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: range is full")))
			}
			got = append(got, port)
			p.NodePort = int32(port)
		}
		byPort[p.Port] = p.NodePort
	}
	if needHC {
		hc := int(svc.Spec.HealthCheckNodePort)
		switch {
		case hc != 0 && held[hc]:
		case hc != 0:
			if msg := a.claim(hc); msg != "" {
				return fail(invalid(svc, field.Invalid(field.NewPath("spec", "healthCheckNodePort"), hc, msg)))
			}
			got = append(got, hc)
		default:
			port, ok := a.next()
			if !ok {
				return fail(apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: range is full")))
			}
			got = append(got, port)
			svc.Spec.HealthCheckNodePort = int32(port)
		}
	}
	return undo, nil
}

func (a *NodePortAllocator) seed(ctx context.Context) error {
	if a.seeded || a.existing == nil {
		a.seeded = true
		return nil
	}
	svcs, err := a.existing(ctx)
	if err != nil {
		return apierrors.NewInternalError(fmt.Errorf("failed to load allocated node ports: %w", err))
	}
	for _, s := range svcs {
		for p := range portsOf(s) {
			if p >= a.base && p < a.base+a.size {
				a.used[p] = struct{}{}
			}
		}
	}
	a.seeded = true
	return nil
}

func (a *NodePortAllocator) claim(port int) string {
	if port < a.base || port >= a.base+a.size {
		return fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %d-%d", a.base, a.base+a.size-1)
	}
	if _, taken := a.used[port]; taken {
		return "provided port is already allocated"
	}
	a.used[port] = struct{}{}
	return ""
}

func (a *NodePortAllocator) next() (int, bool) {
	start := a.rng.IntN(a.size)
	for i := 0; i < a.size; i++ {
		port := a.base + (start+i)%a.size
		if _, taken := a.used[port]; !taken {
			a.used[port] = struct{}{}
			return port, true
		}
	}
	return 0, false
}

// unlock frees ports with mu held.
func (a *NodePortAllocator) unlock(ports []int) {
	for _, p := range ports {
		delete(a.used, p)
	}
}

func (a *NodePortAllocator) releaseList(ports []int) {
	a.mu.Lock()
	a.unlock(ports)
	a.mu.Unlock()
}

func (a *NodePortAllocator) releaseAll(ports, keep map[int]bool) {
	var free []int
	for p := range ports {
		if !keep[p] {
			free = append(free, p)
		}
	}
	a.releaseList(free)
}

func hasNodePorts(svc *corev1.Service) bool {
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			return true
		}
	}
	return false
}

// portsOf returns the node ports a service holds.
func portsOf(svc *corev1.Service) map[int]bool {
	ports := map[int]bool{}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			ports[int(p.NodePort)] = true
		}
	}
	if svc.Spec.HealthCheckNodePort != 0 {
		ports[int(svc.Spec.HealthCheckNodePort)] = true
	}
	return ports
}
