package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

func cidr(t *testing.T, s string) *net.IPNet {
	t.Helper()
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// created runs a service through the allocating strategy as the store
// would: PrepareForCreate, Validate, Allocate.
func created(t *testing.T, s registry.Strategy, svc *corev1.Service) (func(), error) {
	t.Helper()
	ctx := context.Background()
	s.PrepareForCreate(ctx, svc)
	if errs := s.Validate(ctx, svc); len(errs) != 0 {
		t.Fatalf("invalid: %v", errs)
	}
	return s.(registry.Allocator).Allocate(ctx, svc)
}

// fieldErr returns the single cause of a 422 Invalid error.
func fieldErr(t *testing.T, err error) *field.Error {
	t.Helper()
	var se *apierrors.StatusError
	if !errors.As(err, &se) || !apierrors.IsInvalid(err) || len(se.ErrStatus.Details.Causes) != 1 || se.ErrStatus.Details.Kind != "Service" {
		t.Fatalf("want a 422 Invalid for a Service with one cause, got %T %v", err, err)
	}
	c := se.ErrStatus.Details.Causes[0]
	msg := strings.TrimPrefix(c.Message, "Invalid value: ")
	if i := strings.Index(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return &field.Error{Type: field.ErrorType(c.Type), Field: c.Field, Detail: msg}
}

func TestClusterIPExhaustion(t *testing.T) {
	ips := NewClusterIPAllocator(cidr(t, "10.96.0.0/29"), nil)
	s := NewStrategyWithAllocators(ips, nil)
	seen := map[string]bool{}
	for i := 0; i < 5; i++ { // .2-.6: not the network, .1 or broadcast
		svc := newService()
		if _, err := created(t, s, svc); err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		ip := svc.Spec.ClusterIP
		if seen[ip] || ip == "10.96.0.0" || ip == "10.96.0.1" || ip == "10.96.0.7" || svc.Spec.ClusterIPs[0] != ip {
			t.Fatalf("bad allocation %q (seen %v)", ip, seen)
		}
		seen[ip] = true
	}
	_, err := created(t, s, newService())
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "range is full") {
		t.Fatalf("exhausted range: %v", err)
	}

	// The first address is still available on request (the kubernetes service).
	k := newService()
	k.Spec.ClusterIP = "10.96.0.1"
	if _, err := created(t, s, k); err != nil {
		t.Fatalf("requesting .1: %v", err)
	}
	// Releasing one frees it for the next.
	var any string
	for ip := range seen {
		any = ip
		break
	}
	ips.Release(context.Background(), &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: any}})
	svc := newService()
	if _, err := created(t, s, svc); err != nil || svc.Spec.ClusterIP != any {
		t.Fatalf("after release got %q, %v; want %q", svc.Spec.ClusterIP, err, any)
	}
}

func TestClusterIPRequested(t *testing.T) {
	s := NewStrategyWithAllocators(NewClusterIPAllocator(cidr(t, "10.96.0.0/24"), nil), nil)
	a := newService()
	a.Spec.ClusterIP = "10.96.0.10"
	undo, err := created(t, s, a)
	if err != nil || a.Spec.ClusterIPs[0] != "10.96.0.10" {
		t.Fatalf("%v %v", err, a.Spec.ClusterIPs)
	}
	b := newService()
	b.Spec.ClusterIP = "10.96.0.10"
	_, err = created(t, s, b)
	fe := fieldErr(t, err)
	if fe.Type != field.ErrorTypeInvalid || fe.Field != "spec.clusterIPs" || fe.Detail != "failed to allocate IP 10.96.0.10: provided IP is already allocated" {
		t.Errorf("taken: %v", fe)
	}
	undo()
	if _, err := created(t, s, b); err != nil {
		t.Errorf("after undo: %v", err)
	}

	for _, ip := range []string{"10.97.0.1", "10.96.0.0", "10.96.0.255"} {
		c := newService()
		c.Spec.ClusterIP = ip
		_, err := created(t, s, c)
		fe := fieldErr(t, err)
		want := fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is 10.96.0.0/24", ip, ip)
		if fe.Detail != want {
			t.Errorf("%s: %q, want %q", ip, fe.Detail, want)
		}
	}
}

func TestClusterIPHeadlessAndExternalName(t *testing.T) {
	ips := NewClusterIPAllocator(cidr(t, "10.96.0.0/30"), nil) // only .1 and .2
	s := NewStrategyWithAllocators(ips, nil)
	h := newService()
	h.Spec.ClusterIP = "None"
	if _, err := created(t, s, h); err != nil || h.Spec.ClusterIPs[0] != "None" {
		t.Fatalf("headless: %v %v", err, h.Spec.ClusterIPs)
	}
	e := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}}
	if _, err := created(t, s, e); err != nil || e.Spec.ClusterIP != "" {
		t.Fatalf("externalName: %v %q", err, e.Spec.ClusterIP)
	}
	n := newService()
	if _, err := created(t, s, n); err != nil || n.Spec.ClusterIP != "10.96.0.2" {
		t.Fatalf("only free address: %v %q", err, n.Spec.ClusterIP)
	}
}

func TestClusterIPSeeding(t *testing.T) {
	calls := 0
	fail := true
	list := func(context.Context) ([]*corev1.Service, error) {
		calls++
		if fail {
			return nil, errors.New("etcd unavailable")
		}
		return []*corev1.Service{
			{Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.2", ClusterIPs: []string{"10.96.0.2"}}},
			{Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.3", ClusterIPs: []string{"10.96.0.3"}}},
			{Spec: corev1.ServiceSpec{ClusterIP: "None"}},
			{Spec: corev1.ServiceSpec{ClusterIP: "192.168.0.1"}},
		}, nil
	}
	s := NewStrategyWithAllocators(NewClusterIPAllocator(cidr(t, "10.96.0.0/29"), list), nil)
	if _, err := created(t, s, newService()); !apierrors.IsInternalError(err) {
		t.Fatalf("seeding failure: %v", err)
	}
	fail = false
	got := map[string]bool{}
	for i := 0; i < 3; i++ { // .4 .5 .6 are left
		svc := newService()
		if _, err := created(t, s, svc); err != nil {
			t.Fatal(err)
		}
		got[svc.Spec.ClusterIP] = true
	}
	if !got["10.96.0.4"] || !got["10.96.0.5"] || !got["10.96.0.6"] {
		t.Errorf("allocated %v over seeded .2/.3", got)
	}
	taken := newService()
	taken.Spec.ClusterIP = "10.96.0.2"
	if _, err := created(t, s, taken); err == nil || !strings.Contains(err.Error(), "already allocated") {
		t.Errorf("seeded IP handed out again: %v", err)
	}
	if calls != 2 {
		t.Errorf("listed %d times, want 2 (one failure, one success)", calls)
	}
}

func TestClusterIPConcurrent(t *testing.T) {
	s := NewStrategyWithAllocators(NewClusterIPAllocator(cidr(t, "10.96.0.0/24"), nil), nil)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := newService()
			s.PrepareForCreate(context.Background(), svc)
			_, err := s.(registry.Allocator).Allocate(context.Background(), svc)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			if seen[svc.Spec.ClusterIP] {
				t.Errorf("duplicate %s", svc.Spec.ClusterIP)
			}
			seen[svc.Spec.ClusterIP] = true
		}()
	}
	wg.Wait()
	if len(seen) != 200 {
		t.Errorf("allocated %d distinct IPs", len(seen))
	}
}

func TestClusterIPv6(t *testing.T) {
	ips := NewClusterIPAllocator(cidr(t, "fd00:10:96::/112"), nil)
	s := NewStrategyWithAllocators(ips, nil)
	svc := newService()
	if _, err := created(t, s, svc); err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(svc.Spec.ClusterIP); ip == nil || ip.To4() != nil || svc.Spec.IPFamilies[0] != corev1.IPv6Protocol {
		t.Errorf("allocated %q families %v", svc.Spec.ClusterIP, svc.Spec.IPFamilies)
	}
}

func TestNodePorts(t *testing.T) {
	ports := NewNodePortAllocator(30000, 3, nil)
	s := NewStrategyWithAllocators(NewClusterIPAllocator(cidr(t, "10.96.0.0/24"), nil), ports)
	np := newService()
	np.Spec.Type = corev1.ServiceTypeNodePort
	np.Spec.Ports = []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP}}
	if _, err := created(t, s, np); err != nil {
		t.Fatal(err)
	}
	if p := np.Spec.Ports; p[0].NodePort == 0 || p[0].NodePort != p[1].NodePort {
		t.Errorf("TCP and UDP of one port should share a node port: %v", p)
	}

	req := newService()
	req.Spec.Type = corev1.ServiceTypeNodePort
	req.Spec.Ports[0].NodePort = np.Spec.Ports[0].NodePort
	_, err := created(t, s, req)
	if fe := fieldErr(t, err); fe.Field != "spec.ports[0].nodePort" || fe.Detail != "provided port is already allocated" {
		t.Errorf("taken: %v", fe)
	}
	req.Spec.Ports[0].NodePort = 40000
	_, err = created(t, s, req)
	if fe := fieldErr(t, err); fe.Detail != "provided port is not in the valid range. The range of valid ports is 30000-30002" {
		t.Errorf("range: %v", fe)
	}
	// A failed node port allocation releases the cluster IP it got first.
	if ip := req.Spec.ClusterIP; ip != "" {
		again := newService()
		again.Spec.ClusterIP = ip
		if _, err := created(t, s, again); err != nil {
			t.Errorf("cluster IP %s leaked by failed create: %v", ip, err)
		}
	}

	lb := newService()
	lb.Spec.Type = corev1.ServiceTypeLoadBalancer
	lb.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	if _, err := created(t, s, lb); err != nil {
		t.Fatal(err)
	}
	if lb.Spec.Ports[0].NodePort == 0 || lb.Spec.HealthCheckNodePort == 0 {
		t.Errorf("LoadBalancer ports: %v hc %d", lb.Spec.Ports, lb.Spec.HealthCheckNodePort)
	}
	full := newService()
	full.Spec.Type = corev1.ServiceTypeNodePort
	if _, err := created(t, s, full); !apierrors.IsInternalError(err) {
		t.Errorf("full range: %v", err)
	}
	s.(registry.Allocator).Release(context.Background(), lb)
	if _, err := created(t, s, full); err != nil {
		t.Errorf("after release: %v", err)
	}
}

func TestUpdateAllocation(t *testing.T) {
	ips := NewClusterIPAllocator(cidr(t, "10.96.0.0/24"), nil)
	s := NewStrategyWithAllocators(ips, NewNodePortAllocator(30000, 100, nil))
	ctx := context.Background()
	ext := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}}
	if _, err := created(t, s, ext); err != nil {
		t.Fatal(err)
	}
	svc := ext.DeepCopy()
	svc.Spec.Type = corev1.ServiceTypeNodePort
	svc.Spec.ExternalName = ""
	svc.Spec.Ports = []corev1.ServicePort{{Port: 80}}
	s.PrepareForUpdate(ctx, svc, ext)
	if errs := s.ValidateUpdate(ctx, svc, ext); len(errs) != 0 {
		t.Fatal(errs)
	}
	ua := s.(UpdateAllocator)
	if _, err := ua.AllocateUpdate(ctx, svc, ext); err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.Ports[0].NodePort == 0 {
		t.Fatalf("update to NodePort got %q %v", svc.Spec.ClusterIP, svc.Spec.Ports)
	}
	back := svc.DeepCopy()
	back.Spec.Type = corev1.ServiceTypeExternalName
	back.Spec.ExternalName = "example.com"
	s.PrepareForUpdate(ctx, back, svc)
	if errs := s.ValidateUpdate(ctx, back, svc); len(errs) != 0 {
		t.Fatal(errs)
	}
	ua.ReleaseUpdate(ctx, back, svc)
	again := newService()
	again.Spec.ClusterIP = svc.Spec.ClusterIP
	if _, err := created(t, s, again); err != nil {
		t.Errorf("IP not released on switch to ExternalName: %v", err)
	}
}
