package pod

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

// proxySubresource is pods/proxy: any method, relayed to the pod's IP; the
// name may be "pod", "pod:port" or "scheme:pod:port" (a port number).
func proxySubresource() registry.Subresource {
	transport := proxy.NewClusterTransport()
	return proxy.Subresource("pods", corev1.SchemeGroupVersion.WithKind("PodProxyOptions"), &corev1.PodProxyOptions{},
		func(pods registry.Store) proxy.Locator {
			return func(ctx context.Context, ns, id string) (*url.URL, http.RoundTripper, error) {
				loc, err := ProxyLocation(ctx, pods, ns, id)
				return loc, transport, err
			}
		})
}

// ProxyLocation returns the address of pod id ("name", "name:port",
// "scheme:name:port") in ns, as upstream's ResourceLocation: without a
// port, the first port a container declares (none: the scheme's); the
// pod's IP must be a global unicast address.
func ProxyLocation(ctx context.Context, pods registry.Store, ns, id string) (*url.URL, error) {
	scheme, name, port, ok := utilnet.SplitSchemeNamePort(id)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid pod request %q", id))
	}
	pod, err := getPod(ctx, pods, ns, name)
	if err != nil {
		return nil, err
	}
	if port == "" {
		for _, c := range pod.Spec.Containers {
			if len(c.Ports) > 0 {
				port = fmt.Sprint(c.Ports[0].ContainerPort)
				break
			}
		}
	}
	ip := podIP(pod)
	if !proxy.IsProxyableIP(net.ParseIP(ip)) {
		return nil, apierrors.NewBadRequest("address not allowed")
	}
	loc := &url.URL{Scheme: scheme, Host: ip}
	if port != "" {
		loc.Host = net.JoinHostPort(ip, port)
	} else if net.ParseIP(ip).To4() == nil {
		loc.Host = "[" + ip + "]"
	}
	return loc, nil
}

func podIP(pod *corev1.Pod) string {
	if len(pod.Status.PodIPs) > 0 {
		return pod.Status.PodIPs[0].IP
	}
	return pod.Status.PodIP
}
