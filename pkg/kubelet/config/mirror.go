package config

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// MirrorClient creates and deletes mirror pods: the apiserver copies of
// static pods, owned by the Node (as NodeRestriction requires).
type MirrorClient struct {
	Client   kubernetes.Interface
	NodeName string
}

// MirrorPod returns the mirror pod object for a static pod, owned by node.
func MirrorPod(static *v1.Pod, nodeUID types.UID) *v1.Pod {
	m := static.DeepCopy()
	m.UID, m.ResourceVersion = "", ""
	m.Annotations[ConfigMirrorAnnotation] = static.Annotations[ConfigHashAnnotation]
	m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: static.Spec.NodeName, UID: nodeUID,
		Controller: ptrTrue()}}
	m.Status = v1.PodStatus{}
	return m
}

// CreateMirrorPod creates static's mirror pod. An existing pod of that name
// is an error (the caller deletes stale mirrors first).
func (c *MirrorClient) CreateMirrorPod(ctx context.Context, static *v1.Pod, nodeUID types.UID) (*v1.Pod, error) {
	m, err := c.Client.CoreV1().Pods(static.Namespace).Create(ctx, MirrorPod(static, nodeUID), metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create mirror pod %s/%s: %w", static.Namespace, static.Name, err)
	}
	return m, nil
}

// DeleteMirrorPod deletes the mirror pod ns/name with uid uid immediately
// (grace 0, uid precondition). A pod already gone is not an error.
func (c *MirrorClient) DeleteMirrorPod(ctx context.Context, ns, name string, uid types.UID) error {
	grace := int64(0)
	err := c.Client.CoreV1().Pods(ns).Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &grace,
		Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete mirror pod %s/%s: %w", ns, name, err)
	}
	return nil
}

// MirrorMatches reports whether mirror mirrors static's current manifest.
func MirrorMatches(static, mirror *v1.Pod) bool {
	return mirror.DeletionTimestamp == nil && mirror.Annotations[ConfigMirrorAnnotation] == static.Annotations[ConfigHashAnnotation]
}

func ptrTrue() *bool { t := true; return &t }
