package proxy

import (
	"net/http"
	"net/url"

	"k8s.io/apimachinery/pkg/runtime/schema"
	utilproxy "k8s.io/apimachinery/pkg/util/proxy"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
)

// Upgrading returns the handler relaying one request to location with
// transport: an upgrade (SPDY, WebSocket) is dialled and relayed byte for
// byte, anything else reverse-proxied. With upgradeRequired, a request
// that is not an upgrade is a 400 ("Upgrade request required"), as for
// exec, attach and port-forward. With rewrite, the response's links and
// redirects are rewritten to point back through the apiserver (proxy
// subresources). Errors before the relay starts are API Status responses.
// A handler serves one request: make a new one for each.
func Upgrading(location *url.URL, transport http.RoundTripper, rewrite, upgradeRequired bool) http.Handler {
	return utilproxy.NewUpgradeAwareHandler(location, transport, rewrite, upgradeRequired, errorResponder{})
}

// errorResponder answers the proxy's errors with a Status: API errors as
// they are, others (the backend cannot be dialled) as 500, as upstream's
// responder does.
type errorResponder struct{}

func (errorResponder) Error(w http.ResponseWriter, r *http.Request, err error) {
	handlers.WriteError(w, r, err)
}

func schemaResource(resource string) schema.GroupResource {
	return schema.GroupResource{Resource: resource}
}
