// Package namespacelifecycle is upstream's NamespaceLifecycle admission
// plugin: nothing is created in a namespace that does not exist or is being
// terminated, and the system namespaces (default, kube-system, kube-public)
// are never deleted.
package namespacelifecycle

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// immortal are the namespaces that may not be deleted, as upstream's
// kube-apiserver configures the plugin.
var immortal = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic}

// Plugin is the NamespaceLifecycle plugin. It is safe for concurrent use.
type Plugin struct {
	namespaces func() registry.Store
}

// New returns the plugin; namespaces returns the namespaces' store (called
// per request: the server's stores may be assembled after the chain).
func New(namespaces func() registry.Store) *Plugin { return &Plugin{namespaces: namespaces} }

// Name implements admission.Plugin.
func (*Plugin) Name() string { return admission.NamespaceLifecycle }

// Handles implements admission.Plugin: creates and deletes.
func (*Plugin) Handles(op admission.Operation) bool {
	return op == admission.Create || op == admission.Delete
}

var namespaceKind = corev1.SchemeGroupVersion.WithKind("Namespace").GroupKind()

// Admit implements admission.Mutator for creates, as upstream (whose plugin
// is a mutating one, so a create into a missing namespace is refused before
// defaults and validation run).
func (p *Plugin) Admit(ctx context.Context, a *admission.Attributes) error {
	if a.Operation != admission.Create || a.Namespace == "" || a.Kind.GroupKind() == namespaceKind {
		return nil
	}
	// An access review must not tell whether a namespace exists.
	if a.Resource.GroupResource() == (schema.GroupResource{Group: "authorization.k8s.io", Resource: "localsubjectaccessreviews"}) {
		return nil
	}
	return p.check(ctx, a)
}

// Validate implements admission.Validator for deletes (which have no
// mutating phase): an immortal namespace may not be deleted.
func (p *Plugin) Validate(_ context.Context, a *admission.Attributes) error {
	if a.Operation != admission.Delete || a.Kind.GroupKind() != namespaceKind || a.Subresource != "" {
		return nil
	}
	for _, n := range immortal {
		if a.Name == n {
			return apierrors.NewForbidden(a.Resource.GroupResource(), a.Name, fmt.Errorf("this namespace may not be deleted"))
		}
	}
	return nil
}

// check refuses a create in a/Namespace when it is missing (NotFound) or
// terminating (Forbidden with the NamespaceTerminating cause controllers
// recognise). The namespace is looked up in the watch cache first; one the
// cache has not seen yet is looked up in etcd before the create is
// refused, so creating a namespace and then its content works at once.
func (p *Plugin) check(ctx context.Context, a *admission.Attributes) error {
	st := p.namespaces()
	obj, err := st.Get(ctx, "", a.Namespace, &metav1.GetOptions{ResourceVersion: "0"})
	if err == nil && active(obj.(*corev1.Namespace)) {
		return nil
	}
	// Missing from the cache, or terminating there: ask etcd.
	obj, err = st.Get(ctx, "", a.Namespace, nil)
	if apierrors.IsNotFound(err) {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, a.Namespace)
	}
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if active(obj.(*corev1.Namespace)) {
		return nil
	}
	refused := admission.NewForbidden(a, fmt.Errorf(
		"unable to create new content in namespace %s because it is being terminated", a.Namespace)).(*apierrors.StatusError)
	refused.ErrStatus.Details.Causes = append(refused.ErrStatus.Details.Causes, metav1.StatusCause{
		Type: corev1.NamespaceTerminatingCause, Message: fmt.Sprintf("namespace %s is being terminated", a.Namespace),
		Field: "metadata.namespace",
	})
	return refused
}

// active tells whether content may be created in n.
func active(n *corev1.Namespace) bool {
	return n.Status.Phase != corev1.NamespaceTerminating && n.DeletionTimestamp == nil
}
