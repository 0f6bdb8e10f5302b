package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/retry"
)

// errNamespacedOwnerOfClusterScoped marks a cluster-scoped object naming
// a namespaced owner: invalid, and retrying will not help.
var errNamespacedOwnerOfClusterScoped = errors.New("cluster-scoped objects cannot refer to namespaced owners")

// client is the API the workers use: metadata-only reads and writes of any
// resource, through the monitors' REST mapper.
type client struct {
	metadata metadata.Interface
	mon      *monitors
}

// resourceClient returns the client of ref's resource and namespace.
func (c *client) resourceClient(ref objectRef) (metadata.ResourceInterface, error) {
	gvr, namespaced, err := c.mon.resource(ref.APIVersion, ref.Kind)
	if err != nil {
		return nil, err
	}
	if !namespaced {
		return c.metadata.Resource(gvr), nil
	}
	if ref.Namespace == "" {
		// Only a cluster-scoped dependent names an owner this way.
		return nil, errNamespacedOwnerOfClusterScoped
	}
	return c.metadata.Resource(gvr).Namespace(ref.Namespace), nil
}

// get reads ref's object.
func (c *client) get(ctx context.Context, ref objectRef) (*metav1.PartialObjectMetadata, error) {
	rc, err := c.resourceClient(ref)
	if err != nil {
		return nil, err
	}
	return rc.Get(ctx, ref.Name, metav1.GetOptions{})
}

// delete deletes ref's object with policy, on the preconditions of its
// uid and of resourceVersion (when set). After a conflict, when the object
// changed but not its ownerReferences, it retries without the
// resourceVersion precondition, as upstream: frequent unrelated updates
// must not starve the collector.
func (c *client) delete(ctx context.Context, ref objectRef, resourceVersion string, owners []metav1.OwnerReference, policy metav1.DeletionPropagation) error {
	rc, err := c.resourceClient(ref)
	if err != nil {
		return err
	}
	uid := ref.UID
	pre := metav1.Preconditions{UID: &uid}
	if resourceVersion != "" {
		pre.ResourceVersion = &resourceVersion
	}
	err = rc.Delete(ctx, ref.Name, metav1.DeleteOptions{Preconditions: &pre, PropagationPolicy: &policy})
	if !apierrors.IsConflict(err) || resourceVersion == "" {
		return err
	}
	live, liveErr := rc.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(liveErr) {
		return liveErr
	}
	if liveErr == nil && live.UID == ref.UID && live.ResourceVersion != resourceVersion && reflect.DeepEqual(live.OwnerReferences, owners) {
		return c.delete(ctx, ref, "", nil, policy)
	}
	return err
}

// ownerReferencesPatch and finalizersPatch are JSON merge patches guarded
// by resourceVersion (a conflict when the object changed since read).
type ownerReferencesPatch struct {
	Metadata struct {
		ResourceVersion string                  `json:"resourceVersion"`
		OwnerReferences []metav1.OwnerReference `json:"ownerReferences"`
	} `json:"metadata"`
}

type finalizersPatch struct {
	Metadata struct {
		ResourceVersion string   `json:"resourceVersion"`
		Finalizers      []string `json:"finalizers"`
	} `json:"metadata"`
}

// updateMeta reads ref's object afresh, lets change compute a patch from
// it (nil: nothing to do) and applies it as a JSON merge patch; conflicts
// are retried from a fresh read (retry.DefaultBackoff). The object being
// gone, or replaced by another of the same name, is no error: there is
// nothing left to change.
func (c *client) updateMeta(ctx context.Context, ref objectRef, change func(*metav1.PartialObjectMetadata) (any, error)) error {
	rc, err := c.resourceClient(ref)
	if err != nil {
		return err
	}
	err = retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		obj, err := rc.Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if obj.UID != ref.UID {
			return nil
		}
		patch, err := change(obj)
		if err != nil || patch == nil {
			return err
		}
		data, err := json.Marshal(patch)
		if err != nil {
			return err
		}
		_, err = rc.Patch(ctx, ref.Name, types.MergePatchType, data, metav1.PatchOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("updating %s: %w", ref, err)
	}
	return nil
}

// removeOwnerReferences removes the references to owners from ref's
// object.
func (c *client) removeOwnerReferences(ctx context.Context, ref objectRef, owners ...types.UID) error {
	return c.updateMeta(ctx, ref, func(obj *metav1.PartialObjectMetadata) (any, error) {
		var p ownerReferencesPatch
		p.Metadata.ResourceVersion = obj.ResourceVersion
		for _, r := range obj.OwnerReferences {
			if !slices.Contains(owners, r.UID) {
				p.Metadata.OwnerReferences = append(p.Metadata.OwnerReferences, r)
			}
		}
		if len(p.Metadata.OwnerReferences) == len(obj.OwnerReferences) {
			return nil, nil
		}
		return p, nil
	})
}

// unblockOwnerReferences sets blockOwnerDeletion=false on every blocking
// ownerReference of ref's object.
func (c *client) unblockOwnerReferences(ctx context.Context, ref objectRef) error {
	return c.updateMeta(ctx, ref, func(obj *metav1.PartialObjectMetadata) (any, error) {
		var p ownerReferencesPatch
		p.Metadata.ResourceVersion = obj.ResourceVersion
		changed := false
		no := false
		for _, r := range obj.OwnerReferences {
			if r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion {
				r.BlockOwnerDeletion = &no
				changed = true
			}
			p.Metadata.OwnerReferences = append(p.Metadata.OwnerReferences, r)
		}
		if !changed {
			return nil, nil
		}
		return p, nil
	})
}

// removeFinalizer removes finalizer from ref's object.
func (c *client) removeFinalizer(ctx context.Context, ref objectRef, finalizer string) error {
	return c.updateMeta(ctx, ref, func(obj *metav1.PartialObjectMetadata) (any, error) {
		if !slices.Contains(obj.Finalizers, finalizer) {
			return nil, nil
		}
		var p finalizersPatch
		p.Metadata.ResourceVersion = obj.ResourceVersion
		for _, f := range obj.Finalizers {
			if f != finalizer {
				p.Metadata.Finalizers = append(p.Metadata.Finalizers, f)
			}
		}
		return p, nil
	})
}
