package generic

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/memory"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/storagetest"
)

// The tests serve pods through a Store over the in-memory storage twin, with
// a small strategy of their own, so that what is tested is the store and not
// a kind's rules.

var podsGR = schema.GroupResource{Resource: "pods"}

// podStrategy: status is the server's on create and kept on update;
// restartPolicy defaults to Always; containers and their images are
// required; pods bound to a node are deleted gracefully (30s by default).
type podStrategy struct{}

func (podStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	pod := obj.(*corev1.Pod)
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending}
	if pod.Spec.RestartPolicy == "" {
		pod.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
}

func (podStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validatePodSpec(obj.(*corev1.Pod))
}

func (podStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	obj.(*corev1.Pod).Status = old.(*corev1.Pod).Status
}

func (podStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	errs := validatePodSpec(obj.(*corev1.Pod))
	if n, o := obj.(*corev1.Pod).Spec.NodeName, old.(*corev1.Pod).Spec.NodeName; o != "" && n != o {
		errs = append(errs, field.Invalid(field.NewPath("spec", "nodeName"), n, "field is immutable"))
	}
	return errs
}

func (podStrategy) CheckGracefulDelete(_ context.Context, obj runtime.Object, options *metav1.DeleteOptions) bool {
	if obj.(*corev1.Pod).Spec.NodeName == "" {
		zero := int64(0)
		options.GracePeriodSeconds = &zero
		return false
	}
	if options.GracePeriodSeconds == nil {
		thirty := int64(30)
		options.GracePeriodSeconds = &thirty
	}
	return true
}

func validatePodSpec(pod *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "containers")
	if len(pod.Spec.Containers) == 0 {
		errs = append(errs, field.Required(p, ""))
	}
	for i, c := range pod.Spec.Containers {
		if c.Image == "" {
			errs = append(errs, field.Required(p.Index(i).Child("image"), ""))
		}
	}
	return errs
}

// podStatusStrategy is the /status strategy: only status changes.
type podStatusStrategy struct{ podStrategy }

func (podStatusStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object) {
	obj.(*corev1.Pod).Spec = old.(*corev1.Pod).Spec
}

func (podStatusStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	switch phase := obj.(*corev1.Pod).Status.Phase; phase {
	case corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed:
		return nil
	default:
		return field.ErrorList{field.NotSupported(field.NewPath("status", "phase"), phase, []string{"Pending", "Running", "Succeeded", "Failed"})}
	}
}

// namespaces is a NamespaceChecker knowing a fixed set of namespaces.
type namespaces map[string]bool

func (n namespaces) CheckNamespace(_ context.Context, ns string) error {
	if !n[ns] {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, ns)
	}
	return nil
}

func podAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	pod := obj.(*corev1.Pod)
	return labels.Set(pod.Labels), fields.Set{
		"metadata.name": pod.Name, "metadata.namespace": pod.Namespace, "spec.nodeName": pod.Spec.NodeName,
	}, nil
}

var testNow = time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)

// newStore returns a pod store over a fresh memory store, with a fake clock.
func newStore(t *testing.T) (*Store, *testingclock.FakeClock) {
	t.Helper()
	clk := testingclock.NewFakeClock(testNow)
	mem, err := memory.New(memory.Config{Codec: storagetest.Codec(), NewFunc: storagetest.NewPod, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &Store{
		Resource:       podsGR,
		Kind:           corev1.SchemeGroupVersion.WithKind("Pod"),
		Namespaced:     true,
		KeyRoot:        "/pods",
		NewFunc:        storagetest.NewPod,
		NewListFunc:    storagetest.NewPodList,
		Strategy:       podStrategy{},
		StatusStrategy: podStatusStrategy{},
		GetAttrs:       podAttrs,
		Storage:        mem,
		Namespaces:     namespaces{"default": true, "other": true},
		Clock:          clk,
	}, clk
}

func newPod(ns, name string, lbls map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mustCreate(t *testing.T, s *Store, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	out, err := s.Create(ctxT(t), pod, false)
	if err != nil {
		t.Fatalf("create %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	return out.(*corev1.Pod)
}

func mustGet(t *testing.T, s *Store, ns, name string) *corev1.Pod {
	t.Helper()
	out, err := s.Get(ctxT(t), ns, name, nil)
	if err != nil {
		t.Fatalf("get %s/%s: %v", ns, name, err)
	}
	return out.(*corev1.Pod)
}

// statusOf returns the API status of err, failing when it has none.
func statusOf(t *testing.T, err error) metav1.Status {
	t.Helper()
	se, ok := err.(apierrors.APIStatus)
	if !ok {
		t.Fatalf("error %v (%T) carries no API status", err, err)
	}
	return se.Status()
}

// replace returns an UpdateFunc that puts pod in place of the stored object.
func replace(pod *corev1.Pod) UpdateFunc {
	return func(context.Context, runtime.Object) (runtime.Object, error) { return pod.DeepCopy(), nil }
}

// mutate returns an UpdateFunc that changes a copy of the stored pod.
func mutate(fn func(*corev1.Pod)) UpdateFunc {
	return func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		pod := old.(*corev1.Pod).DeepCopy()
		fn(pod)
		return pod, nil
	}
}
