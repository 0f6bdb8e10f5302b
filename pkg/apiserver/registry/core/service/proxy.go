package service

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/kinc-dev/kinc/pkg/apiserver/proxy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// proxySubresource is services/proxy: any method, relayed to a ready
// endpoint of the service, found in its EndpointSlices (stores of deps);
// the name may be "svc", "svc:port" or "scheme:svc:port", the port a
// number or a name.
func proxySubresource(deps registry.Deps) registry.Subresource {
	transport := proxy.NewClusterTransport()
	endpoints := Endpoints{
		Slices: func() registry.Store {
			return deps.Stores(discoveryv1.SchemeGroupVersion.WithResource("endpointslices"))
		},
		Pods: func() registry.Store { return deps.Stores(corev1.SchemeGroupVersion.WithResource("pods")) },
	}
	return proxy.Subresource("services", corev1.SchemeGroupVersion.WithKind("ServiceProxyOptions"), &corev1.ServiceProxyOptions{},
		func(services registry.Store) proxy.Locator {
			return func(ctx context.Context, ns, id string) (*url.URL, http.RoundTripper, error) {
				loc, err := endpoints.Location(ctx, services, ns, id)
				return loc, transport, err
			}
		})
}

// Endpoints finds a service's endpoints: its EndpointSlices (labelled
// kubernetes.io/service-name) and the pods they name.
type Endpoints struct {
	Slices, Pods func() registry.Store
}

// Location returns the address of a ready endpoint of service id
// ("name", "name:port", "scheme:name:port") in ns, as upstream's
// ResourceLocation: a port number is the service port of that number
// (503 when it has none), a port name the service port of that name; the
// endpoint is picked at random among the ready ones whose pod exists in
// ns with that IP (IPv4 slices first); none is a 503.
func (e Endpoints) Location(ctx context.Context, services registry.Store, ns, id string) (*url.URL, error) {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid service request %q", id))
	}
	if num, err := strconv.ParseInt(port, 10, 64); err == nil {
		obj, err := services.Get(ctx, ns, name, nil)
		if err != nil {
			return nil, err
		}
		found := false
		for _, p := range obj.(*corev1.Service).Spec.Ports {
			if int64(p.Port) == num {
				port, found = p.Name, true
				break
			}
		}
		if !found {
			return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no service port %d found for service %q", num, name))
		}
	}
	if ns == "" {
		return nil, apierrors.NewBadRequest("missing required namespace")
	}
	obj, err := e.Slices().List(ctx, ns, &metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return nil, err
	}
	slices := obj.(*discoveryv1.EndpointSliceList).Items
	hostPort, ok := e.pick(ctx, ns, slices, port)
	if !ok {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", name))
	}
	return &url.URL{Scheme: scheme, Host: hostPort}, nil
}

// pick returns host:port of a ready, valid endpoint serving the port
// named portName.
func (e Endpoints) pick(ctx context.Context, ns string, slices []discoveryv1.EndpointSlice, portName string) (string, bool) {
	order := rand.Perm(len(slices))
	sort.SliceStable(order, func(i, j int) bool {
		return slices[order[i]].AddressType == discoveryv1.AddressTypeIPv4 && slices[order[j]].AddressType != discoveryv1.AddressTypeIPv4
	})
	for _, si := range order {
		s := &slices[si]
		for _, p := range s.Ports {
			if p.Name == nil || *p.Name != portName || p.Port == nil || len(s.Endpoints) == 0 {
				continue
			}
			offset := rand.IntN(len(s.Endpoints))
			for i := range s.Endpoints {
				ep := &s.Endpoints[(i+offset)%len(s.Endpoints)]
				if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
					continue
				}
				if len(ep.Addresses) == 0 || !e.isPod(ctx, ns, ep) {
					continue
				}
				return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(*p.Port))), true
			}
		}
	}
	return "", false
}

// isPod reports whether ep is a pod of ns that has ep's address: the
// apiserver proxies only to pods.
func (e Endpoints) isPod(ctx context.Context, ns string, ep *discoveryv1.Endpoint) bool {
	if ep.TargetRef == nil || ep.TargetRef.Namespace != ns {
		return false
	}
	obj, err := e.Pods().Get(ctx, ns, ep.TargetRef.Name, nil)
	if err != nil {
		return false
	}
	for _, ip := range obj.(*corev1.Pod).Status.PodIPs {
		if ip.IP == ep.Addresses[0] {
			return true
		}
	}
	return false
}
