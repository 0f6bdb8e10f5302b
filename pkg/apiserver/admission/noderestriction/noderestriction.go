// Package noderestriction is the NodeRestriction admission plugin, as
// upstream's: it limits what a kubelet (system:node:<name> in
// system:nodes) writes to what concerns its own node. A node may create
// only mirror pods bound to itself that reference no other API object,
// delete and evict only pods bound to itself, update only the status of
// its own pods, create and update only its own Node (not its taints, owner
// references or labels outside the kubelet's own set), its own Lease and
// CSINode, request tokens only bound to its own pods, and ask for
// certificates only in its own name. The Node authorizer lets nodes make
// these requests at all; this plugin checks their objects.
package noderestriction

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz/node"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// PluginName is the plugin's name in --enable-admission-plugins.
const PluginName = "NodeRestriction"

var (
	gvrPods  = corev1.SchemeGroupVersion.WithResource("pods")
	gvrNodes = corev1.SchemeGroupVersion.WithResource("nodes")
)

// Plugin is the NodeRestriction admission plugin, a Validator of creates,
// updates and deletes. Safe for concurrent use.
type Plugin struct {
	stores func(schema.GroupVersionResource) registry.Store
	auth   *registry.Auth
}

var _ admission.Validator = (*Plugin)(nil)

// New returns the plugin of a server. It reads pods and nodes through
// deps.Stores while admitting (a node's pod deletes, evictions and token
// requests, a mirror pod's owner), and asks deps.Auth's Authorizer whether
// a node may request a token for an audience its pod does not use (nil:
// it may not).
func New(deps registry.Deps) *Plugin {
	return &Plugin{stores: deps.Stores, auth: deps.Auth}
}

// Name implements admission.Plugin.
func (*Plugin) Name() string { return PluginName }

// Handles implements admission.Plugin: creates, updates and deletes.
func (*Plugin) Handles(op admission.Operation) bool {
	return op == admission.Create || op == admission.Update || op == admission.Delete
}

// Validate implements admission.Validator. Requests of users that are not
// nodes pass untouched.
func (p *Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	nodeName, isNode := node.Identity(a.User)
	if !isNode {
		return nil
	}
	if nodeName == "" {
		return forbidden(a, fmt.Errorf("could not determine node from user %q", a.User.Name))
	}
	switch a.Resource.Group + "/" + a.Resource.Resource {
	case "/pods":
		switch a.Subresource {
		case "":
			return p.pod(ctx, nodeName, a)
		case "status":
			return podStatus(nodeName, a)
		case "eviction":
			return p.eviction(ctx, nodeName, a)
		default:
			return forbidden(a, fmt.Errorf("unexpected pod subresource %q, only 'status' and 'eviction' are allowed", a.Subresource))
		}
	case "/nodes":
		return nodeWrite(nodeName, a)
	case "/persistentvolumeclaims":
		if a.Subresource != "status" {
			return forbidden(a, fmt.Errorf("may only update PVC status"))
		}
		return pvcStatus(nodeName, a)
	case "/serviceaccounts":
		return p.serviceAccount(ctx, nodeName, a)
	case "coordination.k8s.io/leases":
		return lease(nodeName, a)
	case "storage.k8s.io/csinodes":
		return csiNode(nodeName, a)
	case "resource.k8s.io/resourceslices":
		return resourceSlice(nodeName, a)
	case "certificates.k8s.io/certificatesigningrequests":
		return csr(nodeName, a)
	}
	return nil
}

// forbidden is upstream's admission.NewForbidden: a 403 naming the object
// written ("pods \"x\" is forbidden: …").
func forbidden(a *admission.Attributes, err error) error { return admission.NewForbidden(a, err) }

// getPod reads a pod from the store (errors are API status errors).
func (p *Plugin) getPod(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	obj, err := p.get(ctx, gvrPods, namespace, name)
	if err != nil {
		return nil, err
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, fmt.Errorf("unexpected type %T", obj)
	}
	return pod, nil
}

func (p *Plugin) get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	var st registry.Store
	if p.stores != nil {
		st = p.stores(gvr)
	}
	if st == nil {
		return nil, fmt.Errorf("%s are not served", gvr.Resource)
	}
	return st.Get(ctx, namespace, name, &metav1.GetOptions{})
}

// pod admits a node's create (mirror pods only) and delete of a pod.
func (p *Plugin) pod(ctx context.Context, nodeName string, a *admission.Attributes) error {
	switch a.Operation {
	case admission.Create:
		return p.mirrorPod(ctx, nodeName, a)
	case admission.Delete:
		pod, ok := a.OldObject.(*corev1.Pod)
		if !ok {
			var err error
			if pod, err = p.getPod(ctx, a.Namespace, a.Name); err != nil {
				if apierrors.IsNotFound(err) {
					return err
				}
				return forbidden(a, err)
			}
		}
		if pod.Spec.NodeName != nodeName {
			return forbidden(a, fmt.Errorf("node %q can only delete pods with spec.nodeName set to itself", nodeName))
		}
		return nil
	default:
		return forbidden(a, fmt.Errorf("unexpected operation %q, node %q can only create and delete mirror pods", a.Operation, nodeName))
	}
}

// mirrorPod admits a node's create of a pod: a mirror pod bound to the
// node, controlled by its Node, referencing no other API object.
func (p *Plugin) mirrorPod(ctx context.Context, nodeName string, a *admission.Attributes) error {
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return forbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; !mirror {
		return forbidden(a, fmt.Errorf("pod does not have %q annotation, node %q can only create mirror pods", corev1.MirrorPodAnnotationKey, nodeName))
	}
	if pod.Spec.NodeName != nodeName {
		return forbidden(a, fmt.Errorf("node %q can only create pods with spec.nodeName set to itself", nodeName))
	}
	switch len(pod.OwnerReferences) {
	case 0:
		return forbidden(a, fmt.Errorf("node %q can only create pods with an owner reference set to itself", nodeName))
	case 1:
	default:
		return forbidden(a, fmt.Errorf("node %q can only create pods with a single owner reference set to itself", nodeName))
	}
	owner := pod.OwnerReferences[0]
	if owner.APIVersion != corev1.SchemeGroupVersion.String() || owner.Kind != "Node" || owner.Name != nodeName {
		return forbidden(a, fmt.Errorf("node %q can only create pods with an owner reference set to itself", nodeName))
	}
	if owner.Controller == nil || !*owner.Controller {
		return forbidden(a, fmt.Errorf("node %q can only create pods with a controller owner reference set to itself", nodeName))
	}
	if owner.BlockOwnerDeletion != nil && *owner.BlockOwnerDeletion {
		return forbidden(a, fmt.Errorf("node %q must not set blockOwnerDeletion on an owner reference", nodeName))
	}
	obj, err := p.get(ctx, gvrNodes, "", nodeName)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return forbidden(a, fmt.Errorf("error looking up node %s to verify uid: %v", nodeName, err))
	}
	n, ok := obj.(*corev1.Node)
	if !ok {
		return forbidden(a, fmt.Errorf("unexpected type %T", obj))
	}
	if owner.UID != n.UID {
		return forbidden(a, fmt.Errorf("node %s UID mismatch: expected %s got %s", nodeName, owner.UID, n.UID))
	}
	refs, what, err := apiReference(pod)
	if err != nil {
		return forbidden(a, fmt.Errorf("error checking mirror pod for API references: %w", err))
	}
	if refs {
		return forbidden(a, fmt.Errorf("node %q can not create pods that reference %s", nodeName, what))
	}
	return nil
}

// eviction admits a node's eviction of a pod bound to it.
func (p *Plugin) eviction(ctx context.Context, nodeName string, a *admission.Attributes) error {
	if a.Operation != admission.Create {
		return forbidden(a, fmt.Errorf("unexpected operation %s", a.Operation))
	}
	name := a.Name
	if name == "" {
		if m, err := meta.Accessor(a.Object); err == nil {
			name = m.GetName()
		}
		if name == "" {
			return forbidden(a, errors.New("could not determine pod from request data"))
		}
	}
	pod, err := p.getPod(ctx, a.Namespace, name)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return forbidden(a, err)
	}
	if pod.Spec.NodeName != nodeName {
		return forbidden(a, fmt.Errorf("node %s can only evict pods with spec.nodeName set to itself", nodeName))
	}
	return nil
}
