package pod

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

// stored returns a pod as it is after create.
func stored() *corev1.Pod {
	pod := newPod()
	NewStrategy(DefaultTolerations()).PrepareForCreate(context.Background(), pod)
	pod.ResourceVersion = "5"
	return pod
}

func update(t *testing.T, mutate func(*corev1.Pod)) (*corev1.Pod, field.ErrorList) {
	t.Helper()
	old := stored()
	pod := old.DeepCopy()
	mutate(pod)
	s := NewStrategy(DefaultTolerations())
	s.PrepareForUpdate(context.Background(), pod, old)
	return pod, s.ValidateUpdate(context.Background(), pod, old)
}

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []Err
	}{
		{"image change", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.27" }, nil},
		{"labels change", func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }, nil},
		{"toleration added", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists})
		}, nil},
		{"tolerationSeconds changed", func(p *corev1.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptr.To[int64](10) }, nil},
		{"activeDeadlineSeconds set", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](60) }, nil},
		{"container added", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Image: "b"})
		}, []Err{E(field.ErrorTypeForbidden, "spec.containers")}},
		{"restartPolicy changed", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]Err{E(field.ErrorTypeForbidden, "spec")}},
		{"image cleared", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			[]Err{E(field.ErrorTypeRequired, "spec.containers[0].image"), E(field.ErrorTypeRequired, "spec.containers[0].image")}},
		{"mirror annotation added", func(p *corev1.Pod) {
			p.Spec.NodeName = ""
			p.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
		}, []Err{E(field.ErrorTypeInvalid, "metadata.annotations[kubernetes.io/config.mirror]"), E(field.ErrorTypeForbidden, "metadata.annotations[kubernetes.io/config.mirror]")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := update(t, tc.mutate)
			Expect(t, errs, tc.want...)
		})
	}
}

func TestUpdateMessage(t *testing.T) {
	_, errs := update(t, func(p *corev1.Pod) { p.Spec.SchedulerName = "other" })
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Detail, "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)") {
		t.Fatalf("errs = %v", errs)
	}
	if !strings.Contains(errs[0].Detail, "SchedulerName") {
		t.Errorf("diff does not name the field: %q", errs[0].Detail)
	}
}

func TestUpdateKeepsStatusAndPriority(t *testing.T) {
	pod, errs := update(t, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodSucceeded
		p.Spec.Priority = nil
		p.Spec.Tolerations = nil
	})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if pod.Status.Phase != corev1.PodPending || pod.Spec.Priority == nil || len(pod.Spec.Tolerations) != 2 {
		t.Errorf("status %q priority %v tolerations %v", pod.Status.Phase, pod.Spec.Priority, pod.Spec.Tolerations)
	}
}

func TestStatusStrategy(t *testing.T) {
	old := stored()
	old.OwnerReferences = []metav1.OwnerReference{{Name: "rs"}}
	pod := old.DeepCopy()
	pod.Spec.Containers[0].Image = "changed"
	pod.OwnerReferences = nil
	pod.Status.Phase = corev1.PodRunning
	pod.Status.QOSClass = ""
	pod.Status.PodIP, pod.Status.PodIPs = "10.0.0.7", []corev1.PodIP{{IP: "10.0.0.7"}}
	s := NewStatusStrategy()
	s.PrepareForUpdate(context.Background(), pod, old)
	if pod.Spec.Containers[0].Image != "nginx" || len(pod.OwnerReferences) != 1 {
		t.Errorf("status update changed spec/ownerReferences: %q %v", pod.Spec.Containers[0].Image, pod.OwnerReferences)
	}
	if pod.Status.Phase != corev1.PodRunning || pod.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("status = %+v", pod.Status)
	}
	Expect(t, s.ValidateUpdate(context.Background(), pod, old))

	bad := pod.DeepCopy()
	bad.Status.QOSClass = corev1.PodQOSGuaranteed
	bad.Status.PodIPs = []corev1.PodIP{{IP: "not-an-ip"}}
	Expect(t, s.ValidateUpdate(context.Background(), bad, old),
		E(field.ErrorTypeInvalid, "status.qosClass"), E(field.ErrorTypeInvalid, "status.podIPs[0]"))
}

func TestStatusTerminatedStays(t *testing.T) {
	old := stored()
	old.Spec.RestartPolicy = corev1.RestartPolicyNever
	old.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "nginx", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}
	pod := old.DeepCopy()
	pod.Status.ContainerStatuses[0].State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	Expect(t, NewStatusStrategy().ValidateUpdate(context.Background(), pod, old), E(field.ErrorTypeForbidden, "status.containerStatuses[0].state"))
}

func TestTolerationModified(t *testing.T) {
	old := stored()
	old.Spec.Tolerations = append(old.Spec.Tolerations, corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists})
	pod := old.DeepCopy()
	pod.Spec.Tolerations[2].Key = "other"
	s := NewStrategy(DefaultTolerations())
	s.PrepareForUpdate(context.Background(), pod, old)
	Expect(t, s.ValidateUpdate(context.Background(), pod, old), E(field.ErrorTypeForbidden, "spec.tolerations"))
}
