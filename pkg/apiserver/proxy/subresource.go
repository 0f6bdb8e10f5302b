package proxy

import (
	"context"
	"net/http"
	"net/url"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Locator finds where a proxy subresource request goes: the backend address
// of object id ("name", "name:port" or "scheme:name:port") in namespace ns
// ("" for a cluster-scoped resource) and the transport to reach it. Its
// errors are answered as handlers.WriteError does (API Status errors as
// they are).
type Locator func(ctx context.Context, ns, id string) (*url.URL, http.RoundTripper, error)

// Subresource returns the proxy subresource of resource ("pods",
// "services", "nodes"): any of Methods is relayed to the address the
// Locator built from the resource's store finds, with the path after
// .../{name}/proxy appended (SubPath), upgrades relayed and links and
// redirects in responses rewritten to point back through the apiserver.
// kind is discovery's kind of the subresource and options its versioned
// options type (both PodProxyOptions for pods).
func Subresource(resource string, kind schema.GroupVersionKind, options runtime.Object, locator func(st registry.Store) Locator) registry.Subresource {
	name := resource + "/proxy"
	return registry.Subresource{Name: "proxy", Kind: kind, Verbs: Verbs, Options: options, ConnectMethods: Methods,
		Connecter: func(st registry.Store) registry.Connecter {
			return subresourceConnecter{resource: name, locate: locator(st)}
		}}
}

// subresourceConnecter serves {resource}/{name}/proxy/{path}.
type subresourceConnecter struct {
	resource string // e.g. pods/proxy
	locate   Locator
}

func (c subresourceConnecter) Connect(w http.ResponseWriter, r *http.Request, ns, id string) {
	if err := CheckMethod(r, c.resource); err != nil {
		handlers.WriteError(w, r, err)
		return
	}
	loc, transport, err := c.locate(r.Context(), ns, id)
	if err != nil {
		handlers.WriteError(w, r, err)
		return
	}
	loc.Path = utilnet.JoinPreservingTrailingSlash(loc.Path, SubPath(r))
	Upgrading(loc, transport, true, false).ServeHTTP(w, r)
}
