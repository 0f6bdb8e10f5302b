package generic

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// TestValidationInContext: the validating admission a request carries runs
// after the strategy's defaults and validation, with the stored object on
// update and delete, and its refusal reaches the caller as it is.
func TestValidationInContext(t *testing.T) {
	s, _ := newStore(t)
	refuse := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "web", nil)
	type call struct{ obj, old runtime.Object }
	var calls []call
	validate := func(allow bool) registry.ValidateFunc {
		return func(_ context.Context, obj, old runtime.Object) error {
			calls = append(calls, call{obj, old})
			if !allow {
				return refuse
			}
			return nil
		}
	}
	ctx := ctxT(t)

	if _, err := s.Create(registry.WithValidation(ctx, validate(false)), newPod("default", "web", nil), false); err != refuse {
		t.Fatalf("refused create: %v", err)
	}
	if len(calls) != 1 || calls[0].old != nil || calls[0].obj.(*corev1.Pod).Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Fatalf("create validation saw %+v, want the defaulted pod and no old object", calls)
	}
	if _, err := s.Get(ctx, "default", "web", nil); !apierrors.IsNotFound(err) {
		t.Fatalf("refused pod stored: %v", err)
	}
	calls = nil
	if _, err := s.Create(registry.WithValidation(ctx, validate(true)), newPod("default", "web", nil), false); err != nil {
		t.Fatal(err)
	}

	calls = nil
	_, _, err := s.Update(registry.WithValidation(ctx, validate(false)), "default", "web",
		mutate(func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }), UpdateOptions{})
	if err != refuse {
		t.Fatalf("refused update: %v", err)
	}
	if len(calls) != 1 || calls[0].old.(*corev1.Pod).Labels != nil || calls[0].obj.(*corev1.Pod).Labels["a"] != "b" {
		t.Fatalf("update validation saw %+v", calls)
	}

	calls = nil
	if _, _, err := s.Delete(registry.WithValidation(ctx, validate(false)), "default", "web", nil, false); err != refuse {
		t.Fatalf("refused delete: %v", err)
	}
	if len(calls) != 1 || calls[0].obj != nil || calls[0].old.(*corev1.Pod).Name != "web" {
		t.Fatalf("delete validation saw %+v", calls)
	}
	if _, _, err := s.Delete(ctx, "default", "web", nil, false); err != nil {
		t.Fatalf("delete without admission: %v", err)
	}
}

// TestTakeValidation: a store's own nested writes do not inherit the
// request's validation.
func TestTakeValidation(t *testing.T) {
	ctx := registry.WithValidation(context.Background(), func(context.Context, runtime.Object, runtime.Object) error { return nil })
	inner, fn := registry.TakeValidation(ctx)
	if fn == nil {
		t.Fatal("no validation taken")
	}
	if _, again := registry.TakeValidation(inner); again != nil {
		t.Fatal("the nested context still carries the validation")
	}
}
