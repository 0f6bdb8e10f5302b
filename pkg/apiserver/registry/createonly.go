package registry

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
)

// CreateOnly is the Store of a storage-less resource that is only ever
// created (Resource.NewStore): a review whose answer is computed from the
// request and returned, never kept. Create runs the request's validating
// admission (WithValidation), then CreateFunc; every other method answers
// 405 MethodNotSupported, as upstream answers verbs a resource's storage
// does not implement.
type CreateOnly struct {
	// Resource names the resource in errors.
	Resource schema.GroupResource
	// NewFunc returns an empty object of the kind.
	NewFunc func() runtime.Object
	// CreateFunc answers a create of obj, which the handler decoded from
	// the request body (and, for a namespaced resource, whose namespace it
	// matched with the URL's); it may modify and return obj. Errors are
	// API status errors. It must be safe for concurrent use.
	CreateFunc func(ctx context.Context, obj runtime.Object, dryRun bool) (runtime.Object, error)
}

var _ Store = CreateOnly{}

func (s CreateOnly) New() runtime.Object { return s.NewFunc() }

func (s CreateOnly) Create(ctx context.Context, obj runtime.Object, dryRun bool) (runtime.Object, error) {
	ctx, validate := TakeValidation(ctx)
	if validate != nil {
		if err := validate(ctx, obj.DeepCopyObject(), nil); err != nil {
			return nil, err
		}
	}
	return s.CreateFunc(ctx, obj, dryRun)
}

func (s CreateOnly) notSupported(verb string) error {
	return apierrors.NewMethodNotSupported(s.Resource, verb)
}

func (s CreateOnly) Get(context.Context, string, string, *metav1.GetOptions) (runtime.Object, error) {
	return nil, s.notSupported("get")
}

func (s CreateOnly) List(context.Context, string, *metav1.ListOptions) (runtime.Object, error) {
	return nil, s.notSupported("list")
}

func (s CreateOnly) Update(context.Context, string, string, UpdateFunc, UpdateOptions) (runtime.Object, bool, error) {
	return nil, false, s.notSupported("update")
}

func (s CreateOnly) Delete(context.Context, string, string, *metav1.DeleteOptions, bool) (runtime.Object, bool, error) {
	return nil, false, s.notSupported("delete")
}

func (s CreateOnly) DeleteCollection(context.Context, string, *metav1.DeleteOptions, *metav1.ListOptions, bool) (runtime.Object, error) {
	return nil, s.notSupported("deletecollection")
}

func (s CreateOnly) Watch(context.Context, string, *metav1.ListOptions) (watch.Interface, error) {
	return nil, s.notSupported("watch")
}

func (s CreateOnly) Mutate(context.Context, string, string, func(runtime.Object) error) (runtime.Object, error) {
	return nil, s.notSupported("update")
}
