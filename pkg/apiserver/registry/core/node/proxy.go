package node

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/kinc-dev/kinc/pkg/apiserver/proxy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// proxySubresource is nodes/proxy: any method, relayed to the node's
// kubelet (with the apiserver's kubelet client certificate) or to another
// port of the node.
func proxySubresource(client registry.KubeletClientConfig) registry.Subresource {
	cluster := proxy.NewClusterTransport()
	return proxy.Subresource("nodes", corev1.SchemeGroupVersion.WithKind("NodeProxyOptions"), &corev1.NodeProxyOptions{},
		func(st registry.Store) proxy.Locator {
			l := &proxyLocator{kubelets: proxy.NewKubelets(func() registry.Store { return st }, client), cluster: cluster}
			return func(ctx context.Context, _, id string) (*url.URL, http.RoundTripper, error) {
				return l.location(ctx, id)
			}
		})
}

// proxyLocator finds the backend of nodes/{name}/proxy; the name may be
// "node", "node:port" or "scheme:node:port".
type proxyLocator struct {
	kubelets *proxy.Kubelets
	cluster  http.RoundTripper
}

// location is where nodes/proxy of node id goes, as upstream's
// ResourceLocation: the kubelet when no port or the kubelet's is named,
// else that port of the node's address with the requested scheme. The
// address must resolve to global unicast addresses only.
func (c *proxyLocator) location(ctx context.Context, id string) (*url.URL, http.RoundTripper, error) {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return nil, nil, apierrors.NewBadRequest(fmt.Sprintf("invalid node request %q", id))
	}
	kubelet, err := c.kubelets.Location(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if err := proxyableHost(ctx, kubelet.Hostname()); err != nil {
		return nil, nil, apierrors.NewBadRequest(err.Error())
	}
	if port == "" || port == kubelet.Port() {
		return kubelet, c.kubelets.Transport(), nil
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(kubelet.Hostname(), port)}, c.cluster, nil
}

// proxyableHost checks that host resolves, and only to global unicast
// addresses.
func proxyableHost(ctx context.Context, host string) error {
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return fmt.Errorf("no addresses for hostname")
	}
	for _, a := range addrs {
		if !proxy.IsProxyableIP(a.IP) {
			return fmt.Errorf("address not allowed")
		}
	}
	return nil
}
