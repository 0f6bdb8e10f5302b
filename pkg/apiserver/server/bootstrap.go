package server

import (
	"context"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/kinc-dev/kinc/pkg/apiserver/authz/rbac/bootstrappolicy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
)

// systemNamespaces exist from the start, as upstream.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// bootstrapInterval is how often the bootstrap objects are reconciled.
const bootstrapInterval = 10 * time.Second

// runBootstrap keeps the system namespaces and the default/kubernetes
// service and endpoints in place until ctx ends. The default RBAC policy is
// reconciled until the first success only, as upstream's
// rbac/bootstrap-roles post-start hook runs once per start: an admin's later
// change to a default role lasts until the next restart, as upstream.
func (s *Server) runBootstrap(ctx context.Context) {
	for {
		if err := s.bootstrap(ctx); err != nil {
			if ctx.Err() == nil {
				s.log.Warn("reconciling bootstrap objects", "err", err)
			}
		} else {
			s.bootstrapped.Store(true)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(s.bootstrapRetry()):
		}
	}
}

func (s *Server) bootstrap(ctx context.Context) error {
	nsStore := s.stores.store(gvrNamespaces)
	for _, name := range systemNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if err := createIfMissing(ctx, nsStore, ns); err != nil {
			return err
		}
	}
	if !s.bootstrapped.Load() { // /readyz fails until the policy is in place
		rbac := rbacv1.SchemeGroupVersion
		if err := bootstrappolicy.Reconcile(ctx, bootstrappolicy.Stores{
			ClusterRoles:        s.stores.store(rbac.WithResource("clusterroles")),
			ClusterRoleBindings: s.stores.store(rbac.WithResource("clusterrolebindings")),
			Roles:               s.stores.store(rbac.WithResource("roles")),
			RoleBindings:        s.stores.store(rbac.WithResource("rolebindings")),
		}, s.log); err != nil {
			return err
		}
	}
	if err := s.publishAuthenticationInfo(ctx); err != nil {
		return err
	}
	_, cidr, _ := net.ParseCIDR(s.opts.ServiceClusterIPRange)
	first := make(net.IP, len(cidr.IP))
	copy(first, cidr.IP)
	first[len(first)-1]++
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: first.String(), ClusterIPs: []string{first.String()},
			SessionAffinity: corev1.ServiceAffinityNone,
			Ports: []corev1.ServicePort{{Name: "https", Protocol: corev1.ProtocolTCP, Port: 443,
				TargetPort: intstr.FromInt32(int32(s.opts.SecurePort))}}},
	}
	if err := createIfMissing(ctx, s.stores.store(corev1.SchemeGroupVersion.WithResource("services")), svc); err != nil {
		return err
	}
	if err := s.reconcileEndpoints(ctx); err != nil {
		return err
	}
	return s.reconcileEndpointSlice(ctx)
}

// reconcileEndpoints points default/kubernetes at this apiserver. It writes
// storage directly, as upstream's reconciler does: the advertise address may
// be one that user-written Endpoints may not hold (loopback in tests).
func (s *Server) reconcileEndpoints(ctx context.Context) error {
	st := s.stores.store(corev1.SchemeGroupVersion.WithResource("endpoints"))
	want := []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: s.advertiseAddress()}},
		Ports:     []corev1.EndpointPort{{Name: "https", Port: int32(s.opts.SecurePort), Protocol: corev1.ProtocolTCP}},
	}}
	out := &corev1.Endpoints{}
	return st.Storage.GuaranteedUpdate(ctx, st.Key("default", "kubernetes"), out, true, nil,
		func(existing runtime.Object) (runtime.Object, error) {
			ep := existing.(*corev1.Endpoints)
			if ep.ResourceVersion == "" { // not stored yet
				ep.ObjectMeta = metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
					UID: types.UID(uuid.NewUUID()), CreationTimestamp: metav1.NewTime(s.clock.Now()),
					Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}}
			} else if endpointsEqual(ep.Subsets, want) {
				return ep, nil
			}
			ep.Subsets = want
			return ep, nil
		})
}

// reconcileEndpointSlice keeps the EndpointSlice default/kubernetes equal
// to the Endpoints, as upstream's endpoints adapter writes both: clients that
// read slices (kube-proxy, the conformance suite) find the apiserver there.
func (s *Server) reconcileEndpointSlice(ctx context.Context) error {
	st := s.stores.store(discoveryv1.SchemeGroupVersion.WithResource("endpointslices"))
	ip := s.advertiseAddress()
	addressType := discoveryv1.AddressTypeIPv4
	if net.ParseIP(ip).To4() == nil {
		addressType = discoveryv1.AddressTypeIPv6
	}
	ready := true
	name, port, protocol := "https", int32(s.opts.SecurePort), corev1.ProtocolTCP
	want := &discoveryv1.EndpointSlice{
		AddressType: addressType,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &protocol}},
	}
	out := &discoveryv1.EndpointSlice{}
	return st.Storage.GuaranteedUpdate(ctx, st.Key("default", "kubernetes"), out, true, nil,
		func(existing runtime.Object) (runtime.Object, error) {
			es := existing.(*discoveryv1.EndpointSlice)
			if es.ResourceVersion == "" { // not stored yet
				es.ObjectMeta = metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
					UID: types.UID(uuid.NewUUID()), CreationTimestamp: metav1.NewTime(s.clock.Now()), Generation: 1}
			} else if es.AddressType == want.AddressType && apiequality.Semantic.DeepEqual(es.Endpoints, want.Endpoints) &&
				apiequality.Semantic.DeepEqual(es.Ports, want.Ports) && es.Labels[discoveryv1.LabelServiceName] == "kubernetes" {
				return es, nil
			} else {
				es.Generation++
			}
			es.Labels = map[string]string{discoveryv1.LabelServiceName: "kubernetes"}
			es.AddressType, es.Endpoints, es.Ports = want.AddressType, want.Endpoints, want.Ports
			return es, nil
		})
}

func endpointsEqual(a, b []corev1.EndpointSubset) bool {
	if len(a) != 1 || len(b) != 1 || len(a[0].Addresses) != 1 || len(a[0].Ports) != 1 {
		return false
	}
	return a[0].Addresses[0].IP == b[0].Addresses[0].IP && a[0].Ports[0] == b[0].Ports[0]
}

// createIfMissing creates obj unless it exists. It looks first, as upstream's
// bootstrap controller does: creating an existing service would fail on its
// cluster IP (already allocated) before storage could say AlreadyExists.
func createIfMissing(ctx context.Context, st *generic.Store, obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	if _, err := st.Get(ctx, m.GetNamespace(), m.GetName(), nil); err == nil || !apierrors.IsNotFound(err) {
		return err
	}
	_, err = st.Create(ctx, obj, false)
	if err == nil || apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// bootstrapRetry retries quickly until the first success, then settles.
func (s *Server) bootstrapRetry() time.Duration {
	if s.bootstrapped.Load() {
		return bootstrapInterval
	}
	return 200 * time.Millisecond
}
