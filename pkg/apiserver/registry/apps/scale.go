package apps

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// ScaleFromDeployment returns the autoscaling/v1 Scale of a Deployment.
func ScaleFromDeployment(d *appsv1.Deployment) *autoscalingv1.Scale {
	return newScale(&d.ObjectMeta, d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector)
}

// ScaleFromReplicaSet returns the autoscaling/v1 Scale of a ReplicaSet.
func ScaleFromReplicaSet(rs *appsv1.ReplicaSet) *autoscalingv1.Scale {
	return newScale(&rs.ObjectMeta, rs.Spec.Replicas, rs.Status.Replicas, rs.Spec.Selector)
}

// ScaleFromStatefulSet returns the autoscaling/v1 Scale of a StatefulSet.
func ScaleFromStatefulSet(ss *appsv1.StatefulSet) *autoscalingv1.Scale {
	return newScale(&ss.ObjectMeta, ss.Spec.Replicas, ss.Status.Replicas, ss.Spec.Selector)
}

// newScale builds a Scale as upstream's ScaleREST does: identity metadata of
// the owner, spec.replicas, status.replicas and status.selector as a label
// selector string (empty when the selector does not parse).
func newScale(meta *metav1.ObjectMeta, replicas *int32, statusReplicas int32, sel *metav1.LabelSelector) *autoscalingv1.Scale {
	selector := ""
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil {
		selector = s.String()
	}
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              meta.Name,
			Namespace:         meta.Namespace,
			UID:               meta.UID,
			ResourceVersion:   meta.ResourceVersion,
			CreationTimestamp: meta.CreationTimestamp,
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: ptr.Deref(replicas, 0)},
		Status: autoscalingv1.ScaleStatus{Replicas: statusReplicas, Selector: selector},
	}
}

// ApplyScale copies scale.spec.replicas into obj (a Deployment, ReplicaSet
// or StatefulSet); the caller then stores obj through the kind's update
// strategy. Errors: 422 Invalid (kind autoscaling Scale) for negative
// replicas; 409 Conflict when scale carries a resourceVersion or UID that
// is not obj's; 400 for an unsupported kind.
func ApplyScale(obj runtime.Object, scale *autoscalingv1.Scale) error {
	var replicas **int32
	var meta *metav1.ObjectMeta
	var resource schema.GroupResource
	switch o := obj.(type) {
	case *appsv1.Deployment:
		replicas, meta, resource = &o.Spec.Replicas, &o.ObjectMeta, appsv1.Resource("deployments")
	case *appsv1.ReplicaSet:
		replicas, meta, resource = &o.Spec.Replicas, &o.ObjectMeta, appsv1.Resource("replicasets")
	case *appsv1.StatefulSet:
		replicas, meta, resource = &o.Spec.Replicas, &o.ObjectMeta, appsv1.Resource("statefulsets")
	default:
		return apierrors.NewBadRequest(fmt.Sprintf("scale is not supported for %T", obj))
	}
	if scale.Spec.Replicas < 0 {
		errs := field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), scale.Spec.Replicas, "must be greater than or equal to 0")}
		return apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), scale.Name, errs)
	}
	if scale.UID != "" && scale.UID != meta.UID {
		return apierrors.NewConflict(resource, meta.Name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", scale.UID, meta.UID))
	}
	if scale.ResourceVersion != "" && scale.ResourceVersion != meta.ResourceVersion {
		return apierrors.NewConflict(resource, meta.Name, fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	*replicas = ptr.To(scale.Spec.Replicas)
	return nil
}
