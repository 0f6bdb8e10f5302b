package proxy

import (
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
)

// Methods are the HTTP methods the proxy subresources relay (upstream's
// proxyMethods).
var Methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// Verbs are discovery's verbs of a proxy subresource.
var Verbs = []string{"create", "delete", "get", "patch", "update"}

// SubPath is the path a proxy subresource request forwards: what follows
// .../{name}/proxy, with a leading slash when not empty and a trailing one
// when the request has one ("" for .../proxy, "/" for .../proxy/).
func SubPath(r *http.Request) string {
	p := handlers.ParseRequestInfo(r).SubPath
	if p != "" {
		p = "/" + p
	}
	if strings.HasSuffix(r.URL.Path, "/") && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// CheckMethod returns a 405 Status for a method a proxy subresource does
// not relay (CONNECT, TRACE).
func CheckMethod(r *http.Request, resource string) error {
	for _, m := range Methods {
		if r.Method == m {
			return nil
		}
	}
	return apierrors.NewMethodNotSupported(schemaResource(resource), r.Method)
}

// NewClusterTransport returns the transport to addresses in the cluster
// (pods/proxy, services/proxy and nodes/proxy to a port other than the
// kubelet's), as upstream's proxy transport: https backends' certificates
// are not verified, as pods serve self-signed ones.
func NewClusterTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}, //nolint:gosec // see above
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 25,
		IdleConnTimeout:     90 * time.Second,
	}
}

// IsProxyableIP reports whether a proxy subresource may reach ip: a global
// unicast address, never loopback, link-local or unspecified, as upstream.
func IsProxyableIP(ip net.IP) bool {
	return ip != nil && ip.IsGlobalUnicast()
}
