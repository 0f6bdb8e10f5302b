package registry

import (
	"context"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Subresource is one subresource of a Resource, served beside it. Exactly
// one of View, Creater and Connecter is set: the server calls it once with
// the resource's store and routes the subresource's requests to what it
// returns.
type Subresource struct {
	Name string
	// Kind is the kind read and written at the subresource (discovery's
	// responseKind); the zero value means the parent's kind.
	Kind  schema.GroupVersionKind
	Verbs []string
	// Options, when set, is the versioned options type whose fields are the
	// query parameters of GET in OpenAPI (pods/log: PodLogOptions).
	Options runtime.Object
	// Produces, when set, means GET returns raw data in these media types
	// (pods/log: text/plain).
	Produces []string
	// ConnectMethods, when set, are the HTTP methods of a connect
	// subresource (exec, attach, portforward, proxy), as upstream's
	// Connecter.ConnectMethods; OpenAPI then describes one connect
	// operation per method (and .../{path} ones for proxy).
	ConnectMethods []string

	// View serves a subresource read and written like an object (status,
	// scale, finalize).
	View func(st Store) View
	// Creater serves POST to the subresource (pods/binding).
	Creater func(st Store) Creater
	// Connecter serves the subresource by itself (pods/log, pods/exec,
	// nodes/proxy). The rest of a proxy path is
	// handlers.ParseRequestInfo(r).SubPath.
	Connecter func(st Store) Connecter
}

// View gives read and write access to an object through another shape: the
// object itself for /status, a Scale for /scale.
type View interface {
	New() runtime.Object
	Get(ctx context.Context, namespace, name string, opts *metav1.GetOptions) (runtime.Object, error)
	// Update writes what update computes from the current view of the
	// object (see Store.Update).
	Update(ctx context.Context, namespace, name string, update UpdateFunc, dryRun bool) (runtime.Object, bool, error)
}

// Creater handles POST to a subresource (pods/binding). Create returns what
// the response carries (a Status for a binding).
type Creater interface {
	New() runtime.Object
	Create(ctx context.Context, namespace, name string, obj runtime.Object, dryRun bool) (runtime.Object, error)
}

// Connecter serves a subresource by itself, writing the whole response
// (pods/log, a stream proxied from the node's kubelet).
type Connecter interface {
	Connect(w http.ResponseWriter, r *http.Request, namespace, name string)
}

// Status is the /status subresource: the object itself, written through the
// resource's status strategy. Resource.AllSubresources adds it for every
// resource with a StatusStrategy.
func Status() Subresource {
	return Subresource{Name: "status", Verbs: ViewVerbs, View: func(st Store) View { return statusView{st} }}
}

type statusView struct{ store Store }

func (v statusView) New() runtime.Object { return v.store.New() }

func (v statusView) Get(ctx context.Context, ns, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return v.store.Get(ctx, ns, name, opts)
}

func (v statusView) Update(ctx context.Context, ns, name string, update UpdateFunc, dryRun bool) (runtime.Object, bool, error) {
	return v.store.Update(ctx, ns, name, update, UpdateOptions{DryRun: dryRun, Status: true})
}
