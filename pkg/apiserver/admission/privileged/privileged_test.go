package privileged

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
)

func TestPrivilegedRefused(t *testing.T) {
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "a"},
		{Name: "b", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: spec}
	a := &admission.Attributes{Operation: admission.Create, Kind: corev1.SchemeGroupVersion.WithKind("Pod"),
		Resource: corev1.SchemeGroupVersion.WithResource("pods"), Name: "web", Object: pod}
	err := Plugin{}.Validate(context.Background(), a)
	want := `Pod "web" is invalid: spec.containers[1].securityContext.privileged: Forbidden: disallowed by cluster policy`
	if !apierrors.IsInvalid(err) || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	d.Spec.Template.Spec = spec
	a = &admission.Attributes{Operation: admission.Create, Kind: appsv1.SchemeGroupVersion.WithKind("Deployment"),
		Resource: appsv1.SchemeGroupVersion.WithResource("deployments"), Name: "web", Object: d}
	want = `Deployment.apps "web" is invalid: spec.template.spec.containers[1].securityContext.privileged: Forbidden: disallowed by cluster policy`
	if err := (Plugin{}).Validate(context.Background(), a); err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	pod.Spec.Containers[1].SecurityContext.Privileged = ptr.To(false)
	a = &admission.Attributes{Operation: admission.Create, Kind: corev1.SchemeGroupVersion.WithKind("Pod"),
		Resource: corev1.SchemeGroupVersion.WithResource("pods"), Name: "web", Object: pod}
	if err := (Plugin{}).Validate(context.Background(), a); err != nil {
		t.Errorf("unprivileged pod: %v", err)
	}
}
