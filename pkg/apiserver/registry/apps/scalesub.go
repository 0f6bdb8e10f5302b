package apps

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// ScaleSubresource is the /scale subresource of Deployments, ReplicaSets
// and StatefulSets: the object as an autoscaling/v1 Scale, through which
// only spec.replicas can be changed (then stored through the kind's update
// strategy).
func ScaleSubresource() registry.Subresource {
	return registry.Subresource{Name: "scale", Kind: autoscalingv1.SchemeGroupVersion.WithKind("Scale"), Verbs: registry.ViewVerbs,
		View: func(st registry.Store) registry.View { return scaleView{store: st} }}
}

type scaleView struct{ store registry.Store }

func (v scaleView) New() runtime.Object { return &autoscalingv1.Scale{} }

func (v scaleView) Get(ctx context.Context, ns, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	obj, err := v.store.Get(ctx, ns, name, opts)
	if err != nil {
		return nil, err
	}
	return toScale(obj)
}

func (v scaleView) Update(ctx context.Context, ns, name string, update registry.UpdateFunc, dryRun bool) (runtime.Object, bool, error) {
	// The request's validating admission sees Scales, as upstream's.
	if ctx2, validate := registry.TakeValidation(ctx); validate != nil {
		ctx = registry.WithValidation(ctx2, func(ctx context.Context, obj, old runtime.Object) error {
			scale, err := toScale(obj)
			if err != nil {
				return err
			}
			oldScale, err := toScale(old)
			if err != nil {
				return err
			}
			return validate(ctx, scale, oldScale)
		})
	}
	out, _, err := v.store.Update(ctx, ns, name, func(ctx context.Context, old runtime.Object) (runtime.Object, error) {
		if old == nil {
			return nil, apierrors.NewNotFound(resourceOf(v.store.New()), name)
		}
		cur, err := toScale(old)
		if err != nil {
			return nil, err
		}
		obj, err := update(ctx, cur)
		if err != nil {
			return nil, err
		}
		scale, ok := obj.(*autoscalingv1.Scale)
		if !ok {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("expected a Scale, got %T", obj))
		}
		next := old.DeepCopyObject()
		if err := ApplyScale(next, scale); err != nil {
			return nil, err
		}
		return next, nil
	}, registry.UpdateOptions{DryRun: dryRun})
	if err != nil {
		return nil, false, err
	}
	result, err := toScale(out)
	return result, false, err
}

// toScale renders an object's Scale: spec.replicas, status.replicas and the
// selector as a string, as upstream.
func toScale(obj runtime.Object) (*autoscalingv1.Scale, error) {
	var scale *autoscalingv1.Scale
	switch o := obj.(type) {
	case *appsv1.Deployment:
		scale = ScaleFromDeployment(o)
	case *appsv1.ReplicaSet:
		scale = ScaleFromReplicaSet(o)
	case *appsv1.StatefulSet:
		scale = ScaleFromStatefulSet(o)
	default:
		return nil, apierrors.NewInternalError(fmt.Errorf("%T has no scale", obj))
	}
	scale.TypeMeta = metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"}
	return scale, nil
}

// resourceOf names the resource of a scalable object, for errors.
func resourceOf(obj runtime.Object) schema.GroupResource {
	switch obj.(type) {
	case *appsv1.Deployment:
		return appsv1.Resource("deployments")
	case *appsv1.ReplicaSet:
		return appsv1.Resource("replicasets")
	default:
		return appsv1.Resource("statefulsets")
	}
}
