package handlers

import (
	"context"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
)

// Resource is one served resource: its discovery entry, its store and its
// subresources.
type Resource struct {
	// GVK is the kind of the objects; GVK.Group/Version also name the API
	// group-version the resource is served in.
	GVK          schema.GroupVersionKind
	Name         string // plural, lower case: "pods"
	SingularName string
	ShortNames   []string
	Categories   []string
	Namespaced   bool
	Verbs        []string
	Store        Storage
	Subresources []Subresource
	// ReturnDeletedObject answers an immediate delete with the object instead
	// of a Success Status.
	ReturnDeletedObject bool
}

// Storage is what a resource is served from; *generic.Store implements it,
// and kinds with their own rules (namespaces) wrap it.
type Storage interface {
	New() runtime.Object
	Create(ctx context.Context, obj runtime.Object, dryRun bool) (runtime.Object, error)
	Get(ctx context.Context, namespace, name string, opts *metav1.GetOptions) (runtime.Object, error)
	List(ctx context.Context, namespace string, opts *metav1.ListOptions) (runtime.Object, error)
	Update(ctx context.Context, namespace, name string, update generic.UpdateFunc, opts generic.UpdateOptions) (runtime.Object, bool, error)
	Delete(ctx context.Context, namespace, name string, opts *metav1.DeleteOptions, dryRun bool) (runtime.Object, bool, error)
	DeleteCollection(ctx context.Context, namespace string, opts *metav1.DeleteOptions, listOpts *metav1.ListOptions, dryRun bool) (runtime.Object, error)
	Watch(ctx context.Context, namespace string, opts *metav1.ListOptions) (watch.Interface, error)
}

// GroupVersionResource names the resource.
func (r *Resource) GroupVersionResource() schema.GroupVersionResource {
	return r.GVK.GroupVersion().WithResource(r.Name)
}

// Subresource is a subresource of a Resource: a View (status, scale) read
// and written like an object, a Creater (binding), or a Connecter (log).
type Subresource struct {
	Name      string
	Kind      schema.GroupVersionKind // the kind it answers with (discovery's responseKind)
	Verbs     []string
	View      View
	Creater   Creater
	Connecter Connecter
}

// View gives read and write access to an object through another shape: the
// object itself for /status, a Scale for /scale.
type View interface {
	New() runtime.Object
	Get(ctx context.Context, namespace, name string, opts *metav1.GetOptions) (runtime.Object, error)
	// Update writes what update computes from the current view of the
	// object (see generic.Store.Update).
	Update(ctx context.Context, namespace, name string, update generic.UpdateFunc, dryRun bool) (runtime.Object, bool, error)
}

// Creater handles POST to a subresource (pods/binding).
type Creater interface {
	New() runtime.Object
	Create(ctx context.Context, namespace, name string, obj runtime.Object, dryRun bool) (runtime.Object, error)
}

// Connecter serves a subresource by itself (pods/log, a stream proxied from
// the node's kubelet).
type Connecter interface {
	Connect(w http.ResponseWriter, r *http.Request, namespace, name string)
}

// StatusView serves a resource's /status subresource.
type StatusView struct{ Store Storage }

func (v StatusView) New() runtime.Object { return v.Store.New() }
func (v StatusView) Get(ctx context.Context, ns, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return v.Store.Get(ctx, ns, name, opts)
}
func (v StatusView) Update(ctx context.Context, ns, name string, update generic.UpdateFunc, dryRun bool) (runtime.Object, bool, error) {
	return v.Store.Update(ctx, ns, name, update, generic.UpdateOptions{DryRun: dryRun, Status: true})
}

// mainView serves the resource itself.
type mainView struct{ store Storage }

func (v mainView) New() runtime.Object { return v.store.New() }
func (v mainView) Get(ctx context.Context, ns, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return v.store.Get(ctx, ns, name, opts)
}
func (v mainView) Update(ctx context.Context, ns, name string, update generic.UpdateFunc, dryRun bool) (runtime.Object, bool, error) {
	return v.store.Update(ctx, ns, name, update, generic.UpdateOptions{DryRun: dryRun})
}

// tableConvertor is the printers' contract, named here for the handler.
type tableConvertor = printers.TableConvertor
