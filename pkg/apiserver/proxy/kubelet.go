package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// DefaultKubeletPort is the kubelet's port when a node does not report
// status.daemonEndpoints.kubeletEndpoint.port.
const DefaultKubeletPort = 10250

// Kubelets finds the kubelet of a node and connects to it as the apiserver
// (--kubelet-client-certificate, --kubelet-client-key). It is safe for
// concurrent use.
type Kubelets struct {
	nodes  func() registry.Store
	client registry.KubeletClientConfig

	once      sync.Once // builds transport
	transport *http.Transport
}

// NewKubelets returns the kubelets of the nodes in the store nodes returns
// (called on each lookup: the server assembles its stores after the
// registries), reached with client's certificate.
func NewKubelets(nodes func() registry.Store, client registry.KubeletClientConfig) *Kubelets {
	return &Kubelets{nodes: nodes, client: client}
}

// Location returns https://<address>:<port> of the kubelet of node name:
// the node's InternalIP, else its ExternalIP, else its Hostname address,
// else its name (kubeadm's --kubelet-preferred-address-types), and its
// kubelet port. A node that does not exist is a NotFound error.
func (k *Kubelets) Location(ctx context.Context, name string) (*url.URL, error) {
	obj, err := k.nodes().Get(ctx, "", name, nil)
	if err != nil {
		return nil, err
	}
	return KubeletURL(obj.(*corev1.Node)), nil
}

// KubeletURL returns the base URL of node's kubelet (see Kubelets.Location).
func KubeletURL(node *corev1.Node) *url.URL {
	host := node.Name
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeExternalIP, corev1.NodeHostName} {
		if a := nodeAddress(node, t); a != "" {
			host = a
			break
		}
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port == 0 {
		port = DefaultKubeletPort
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port))}
}

func nodeAddress(node *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t && a.Address != "" {
			return a.Address
		}
	}
	return ""
}

// Transport returns the transport to kubelets: TLS presenting the client
// certificate, read from its files at each handshake so a renewed one is
// used without a restart. The kubelet's serving certificate is not
// verified: it is self-signed unless a CA signs it, and upstream does not
// verify it either without --kubelet-certificate-authority.
func (k *Kubelets) Transport() *http.Transport {
	k.once.Do(func() {
		t := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec // see above
		if k.client.CertFile != "" {
			certFile, keyFile := k.client.CertFile, k.client.KeyFile
			t.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
				c, err := tls.LoadX509KeyPair(certFile, keyFile)
				if err != nil {
					return nil, fmt.Errorf("loading kubelet client certificate: %w", err)
				}
				return &c, nil
			}
		}
		k.transport = &http.Transport{
			Proxy:               nil, // the kubelets are reached directly
			TLSClientConfig:     t,
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 25,
			IdleConnTimeout:     90 * time.Second,
		}
	})
	return k.transport
}
