package disruption

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// scaled is a pod's controller and its desired number of pods.
type scaled struct {
	uid   types.UID
	scale int32
}

// findController returns the controller ref names in namespace and its
// scale, as upstream's finders in their order: a ReplicaSet owned by a
// Deployment counts as the Deployment, else as itself; a StatefulSet; any
// other kind through its scale subresource. Nil means not found (or a
// different uid).
func (c *Controller) findController(ctx context.Context, ref *metav1.OwnerReference, ns string) (*scaled, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil, err
	}
	switch {
	case ref.Kind == "ReplicaSet" && slices.Contains([]string{"apps", "extensions"}, gv.Group):
		rs, err := c.rsLister.ReplicaSets(ns).Get(ref.Name)
		if err != nil || rs.UID != ref.UID {
			return nil, nil // the lister's only error is NotFound
		}
		if owner := metav1.GetControllerOfNoCopy(rs); owner != nil && owner.Kind == "Deployment" {
			ogv, err := schema.ParseGroupVersion(owner.APIVersion)
			if err != nil {
				return nil, err
			}
			if ogv.Group != "apps" && ogv.Group != "extensions" {
				return nil, nil
			}
			d, err := c.dLister.Deployments(ns).Get(owner.Name)
			if err != nil || d.UID != owner.UID {
				return nil, nil
			}
			return &scaled{d.UID, replicas(d.Spec.Replicas)}, nil
		}
		return &scaled{rs.UID, replicas(rs.Spec.Replicas)}, nil
	case ref.Kind == "StatefulSet" && gv.Group == "apps":
		ss, err := c.ssLister.StatefulSets(ns).Get(ref.Name)
		if err != nil || ss.UID != ref.UID {
			return nil, nil
		}
		return &scaled{ss.UID, replicas(ss.Spec.Replicas)}, nil
	}
	return c.scaleController(ctx, ref, gv, ns)
}

func replicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// scaleController reads the scale subresource of ref, found through
// discovery (kinc serves no ReplicationControllers: they come here too).
func (c *Controller) scaleController(ctx context.Context, ref *metav1.OwnerReference, gv schema.GroupVersion, ns string) (*scaled, error) {
	list, err := c.client.Discovery().ServerResourcesForGroupVersion(gv.String())
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	resource := ""
	hasScale := map[string]bool{}
	if list != nil {
		for _, r := range list.APIResources {
			if base, sub, ok := strings.Cut(r.Name, "/"); ok {
				if sub == "scale" && r.Kind == "Scale" {
					hasScale[base] = true
				}
				continue
			}
			if r.Kind == ref.Kind {
				resource = r.Name
			}
		}
	}
	if resource == "" {
		return nil, fmt.Errorf("no matches for kind %q in version %q", ref.Kind, gv.String())
	}
	gr := schema.GroupResource{Group: gv.Group, Resource: resource}
	if !hasScale[resource] {
		return nil, fmt.Errorf("%s does not implement the scale subresource", gr.String())
	}
	rest := c.client.Discovery().RESTClient()
	if rest == nil {
		return nil, fmt.Errorf("no REST client to read the scale of %s %s/%s", gr.String(), ns, ref.Name)
	}
	prefix := "/apis/" + gv.String()
	if gv.Group == "" {
		prefix = "/api/" + gv.Version
	}
	raw, err := rest.Get().AbsPath(prefix, "namespaces", ns, resource, ref.Name, "scale").DoRaw(ctx)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var scale autoscalingv1.Scale
	if err := json.Unmarshal(raw, &scale); err != nil {
		return nil, fmt.Errorf("scale of %s %s/%s: %w", gr.String(), ns, ref.Name, err)
	}
	if scale.UID != ref.UID {
		return nil, nil
	}
	return &scaled{scale.UID, scale.Spec.Replicas}, nil
}
