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

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/proxy"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// proxySubresource is nodes/proxy: any method, relayed to the node's
// kubelet (with the apiserver's kubelet client certificate) or to another
// port of the node.
func proxySubresource(client registry.KubeletClientConfig) registry.Subresource {
	cluster := proxy.NewClusterTransport()
	return registry.Subresource{Name: "proxy", Kind: corev1.SchemeGroupVersion.WithKind("NodeProxyOptions"), Verbs: proxy.Verbs,
		Options: &corev1.NodeProxyOptions{}, ConnectMethods: proxy.Methods,
		Connecter: func(st registry.Store) registry.Connecter {
			return &proxyConnecter{kubelets: proxy.NewKubelets(func() registry.Store { return st }, client), cluster: cluster}
		}}
}

// proxyConnecter serves nodes/{name}/proxy/{path}; the name may be
// "node", "node:port" or "scheme:node:port".
type proxyConnecter struct {
	kubelets *proxy.Kubelets
	cluster  http.RoundTripper
}

func (c *proxyConnecter) Connect(w http.ResponseWriter, r *http.Request, _, id string) {
	if err := proxy.CheckMethod(r, "nodes/proxy"); err != nil {
		handlers.WriteError(w, r, err)
		return
	}
	loc, transport, err := c.location(r.Context(), id)
	if err != nil {
		handlers.WriteError(w, r, err)
		return
	}
	loc.Path = utilnet.JoinPreservingTrailingSlash(loc.Path, proxy.SubPath(r))
	proxy.Upgrading(loc, transport, true, false).ServeHTTP(w, r)
}

// location is where nodes/proxy of node id goes, as upstream's
// ResourceLocation: the kubelet when no port or the kubelet's is named,
// else that port of the node's address with the requested scheme. The
// address must resolve to global unicast addresses only.
func (c *proxyConnecter) location(ctx context.Context, id string) (*url.URL, http.RoundTripper, error) {
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
